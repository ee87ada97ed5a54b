"""Exports one two-service trace with the OpenTelemetry Zipkin exporter (argv[1]: json or proto)
to OTEL_EXPORTER_ZIPKIN_ENDPOINT; prints the trace ID."""
import sys

from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.trace import SpanKind, Status, StatusCode

if sys.argv[1] == "json":
    from opentelemetry.exporter.zipkin.json import ZipkinExporter
else:
    from opentelemetry.exporter.zipkin.proto.http import ZipkinExporter


def provider(service):
    p = TracerProvider(resource=Resource.create({"service.name": service}))
    p.add_span_processor(SimpleSpanProcessor(ZipkinExporter()))
    return p


frontend = provider(sys.argv[2] + "-web")
backend = provider(sys.argv[2] + "-db")
with frontend.get_tracer("t").start_as_current_span("GET /orders", kind=SpanKind.SERVER, attributes={"http.method": "GET", "http.status_code": 200}) as root:
    root.add_event("cache miss")
    with backend.get_tracer("t").start_as_current_span("query", kind=SpanKind.CLIENT, attributes={"db.system": "redis"}) as child:
        child.set_status(Status(StatusCode.ERROR, "boom"))
    trace_id = root.get_span_context().trace_id
frontend.shutdown()
backend.shutdown()
print("%032x" % trace_id)
