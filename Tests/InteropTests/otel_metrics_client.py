"""Records a known set of OpenTelemetry metrics and exports them over OTLP in two rounds.

Run by test_otlp.py in a virtual environment with the OpenTelemetry SDK. Everything about the
export (endpoint, protocol, temporality, histogram aggregation, compression) comes from the
standard OTEL_* environment variables; argv[1] picks the exporter package: grpc, http or json.
"""
import sys

from opentelemetry.metrics import CallbackOptions, Observation
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import PeriodicExportingMetricReader
from opentelemetry.sdk.resources import Resource

kind = sys.argv[1]
if kind == "grpc":
    from opentelemetry.exporter.otlp.proto.grpc.metric_exporter import OTLPMetricExporter
elif kind == "http":
    from opentelemetry.exporter.otlp.proto.http.metric_exporter import OTLPMetricExporter
else:
    from opentelemetry.exporter.otlp.json.http.metric_exporter import OTLPMetricExporter

# The service identity comes from OTEL_SERVICE_NAME / OTEL_RESOURCE_ATTRIBUTES.
reader = PeriodicExportingMetricReader(OTLPMetricExporter(), export_interval_millis=3_600_000)
provider = MeterProvider(metric_readers=[reader], resource=Resource.create())
meter = provider.get_meter("osprey.interop", "1.0.0")

orders = meter.create_counter("orders", unit="{order}", description="Orders placed")
queue = meter.create_up_down_counter("queue.depth", unit="{item}")
instances = meter.create_gauge("instances")
duration = meter.create_histogram("request.duration", unit="s")


def challenges(options: CallbackOptions):
    return [Observation(42, {"level": "hard"}), Observation(7, {"level": "easy"})]


cpu_readings = iter([4.5, 10.5])


def cpu_time(options: CallbackOptions):
    return [Observation(next(cpu_readings, 10.5))]


meter.create_observable_gauge("challenges", callbacks=[challenges])
meter.create_observable_counter("cpu.time", callbacks=[cpu_time], unit="s")

# Round one.
orders.add(3, {"kind": "a"})
orders.add(4, {"kind": "a"})
orders.add(5, {"kind": "b"})
queue.add(5)
instances.set(2)
for value in (0.05, 0.2, 0.2):
    duration.record(value, {"route": "/pay"})
if not provider.force_flush():
    sys.exit("first export failed")

# Round two.
orders.add(1, {"kind": "a"})
queue.add(-2)
instances.set(3)
for value in (1.5, 12.0):
    duration.record(value, {"route": "/pay"})
if not provider.force_flush():
    sys.exit("second export failed")
provider.shutdown()
print("exported")
