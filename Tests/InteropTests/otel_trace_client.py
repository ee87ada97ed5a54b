"""Exports one trace across two services over OTLP, configured by OTEL_* variables only.

argv[1]: grpc, http or json (the exporter package). Prints the trace ID in hex.
"""
import sys
import time

from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.trace import Link, SpanKind, Status, StatusCode

kind = sys.argv[1]
if kind == "grpc":
    from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter
elif kind == "http":
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
else:
    from opentelemetry.exporter.otlp.json.http.trace_exporter import OTLPSpanExporter


def provider(service):
    p = TracerProvider(resource=Resource.create({"service.name": service, "host.name": "h-" + service}))
    p.add_span_processor(SimpleSpanProcessor(OTLPSpanExporter()))
    return p


frontend = provider(sys.argv[2] + "-frontend")
backend = provider(sys.argv[2] + "-backend")
front = frontend.get_tracer("shop.frontend", "1.2.3")
back = backend.get_tracer("shop.backend")

with front.start_as_current_span("warmup") as other:
    pass
link_context = other.get_span_context()

with front.start_as_current_span("GET /checkout", kind=SpanKind.SERVER, attributes={
        "http.method": "GET", "http.status_code": 200, "ratio": 0.5, "cached": True, "tags": ["a", "b"]}) as root:
    root.add_event("started", {"step": 1})
    with back.start_as_current_span("SELECT orders", kind=SpanKind.CLIENT, links=[Link(link_context, {"reason": "retry"})],
                                    attributes={"db.system": "postgresql"}) as child:
        time.sleep(0.01)
        child.set_status(Status(StatusCode.ERROR, "timeout"))
    trace_id = root.get_span_context().trace_id

frontend.shutdown()
backend.shutdown()
print("%032x" % trace_id)
