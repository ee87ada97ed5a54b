"""OTLP metrics ingest with the real OpenTelemetry Python SDK and its gRPC, HTTP/protobuf and
HTTP/JSON exporters, configured only by the standard OTEL_* environment variables; then raw
OTLP/HTTP requests for the status codes the OTLP spec prescribes."""
import gzip
import json
import os
import subprocess
import time

import pytest
import requests

HERE = os.path.dirname(__file__)
VENVS = os.environ.get("OSPREY_TEST_VENVS", os.path.expanduser("~/.cache/osprey-test-venvs"))


def venv_python(name):
    path = os.path.join(VENVS, name, "bin", "python")
    if not os.path.exists(path):
        raise RuntimeError("%s missing; run scripts/install-test-deps.sh" % path)
    return path


def run_client(kind, endpoint, service, temporality, histogram, extra_env=None):
    env = {k: v for k, v in os.environ.items() if not k.startswith("OTEL_")}
    env.update({
        "OTEL_EXPORTER_OTLP_ENDPOINT": endpoint,
        "OTEL_EXPORTER_OTLP_PROTOCOL": {"grpc": "grpc", "http": "http/protobuf", "json": "http/json"}[kind],
        "OTEL_EXPORTER_OTLP_INSECURE": "true",
        "OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE": temporality,
        "OTEL_EXPORTER_OTLP_METRICS_DEFAULT_HISTOGRAM_AGGREGATION": histogram,
        "OTEL_SERVICE_NAME": service,
        "OTEL_RESOURCE_ATTRIBUTES": "service.namespace=shop,service.instance.id=%s-1,deployment.environment=test" % service,
    })
    env.update(extra_env or {})
    python = venv_python("otel-json" if kind == "json" else "otel")
    done = subprocess.run([python, os.path.join(HERE, "otel_metrics_client.py"), kind],
                          env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0 and "exported" in done.stdout, done.stdout + done.stderr
    # The exporters log failed exports instead of raising.
    assert "Failed to export" not in done.stderr, done.stderr


def query(server, expr):
    response = requests.get(server.url + "/api/v1/query", params={"query": expr}, timeout=10)
    assert response.status_code == 200, response.text
    return {tuple(sorted((k, v) for k, v in r["metric"].items())): float(r["value"][1])
            for r in response.json()["data"]["result"]}


def single(server, expr):
    result = query(server, expr)
    assert len(result) == 1, (expr, result)
    return next(iter(result.values()))


CASES = [
    (kind, temporality, histogram)
    for kind in ("grpc", "http", "json")
    for temporality in ("cumulative", "delta")
    for histogram in ("explicit_bucket_histogram", "base2_exponential_bucket_histogram")
]


@pytest.mark.parametrize("kind,temporality,histogram", CASES)
def test_sdk_metrics_are_queryable(start_osprey, kind, temporality, histogram):
    server = start_osprey()
    endpoint = ("http://127.0.0.1:%d" % server.otlp_grpc_port) if kind == "grpc" else ("http://127.0.0.1:%d" % server.otlp_http_port)
    service = "svc-%s-%s-%s" % (kind, temporality[:3], histogram[:3])
    run_client(kind, endpoint, service, temporality, histogram)
    job = 'job="shop/%s"' % service

    # Exactly these series: names, and how many of each.
    names = {dict(k)["__name__"]: v for k, v in query(server, 'count by (__name__) ({%s})' % job).items()}
    bucket_count = names.pop("request_duration_seconds_bucket")
    assert names == {"orders_total": 2, "queue_depth": 1, "instances": 1, "challenges": 2, "cpu_time_seconds_total": 1,
                     "request_duration_seconds_sum": 1, "request_duration_seconds_count": 1, "target_info": 1}
    les = sorted((dict(k)["le"] for k in query(server, "request_duration_seconds_bucket{%s}" % job)), key=float)
    assert bucket_count == (16 if histogram == "explicit_bucket_histogram" else 10), les

    orders = query(server, 'orders_total{%s}' % job)
    assert {dict(k)["kind"]: v for k, v in orders.items()} == {"a": 8, "b": 5}
    for labels in orders:
        assert dict(labels)["instance"] == service + "-1"
    assert single(server, 'queue_depth{%s}' % job) == 3
    assert single(server, 'instances{%s}' % job) == 3
    challenges = query(server, 'challenges{%s}' % job)
    assert {dict(k)["level"]: v for k, v in challenges.items()} == {"hard": 42, "easy": 7}
    assert single(server, 'cpu_time_seconds_total{%s}' % job) == 10.5

    name = "request_duration_seconds"
    assert single(server, '%s_count{%s,route="/pay"}' % (name, job)) == 5
    assert single(server, '%s_sum{%s,route="/pay"}' % (name, job)) == pytest.approx(13.95)
    buckets = {dict(k)["le"]: v for k, v in query(server, '%s_bucket{%s,route="/pay"}' % (name, job)).items()}
    assert buckets["+Inf"] == 5
    if histogram == "explicit_bucket_histogram":
        # The SDK's default bounds: 0, 5, 10, 25, …
        assert buckets["0"] == 0 and buckets["5"] == 4 and buckets["10"] == 4 and buckets["25"] == 5
    else:
        # Exponential buckets merged into power-of-two bounds.
        assert buckets["0.0625"] == 1 and buckets["0.25"] == 3 and buckets["2"] == 4 and buckets["16"] == 5
    values = sorted(buckets.items(), key=lambda item: float(item[0]))
    assert [v for _, v in values] == sorted(v for _, v in values), "buckets must be cumulative"

    info = query(server, 'target_info{%s}' % job)
    assert len(info) == 1
    labels = dict(next(iter(info)))
    assert labels["deployment_environment"] == "test"
    assert labels["telemetry_sdk_language"] == "python"
    assert "service_name" not in labels and "service_namespace" not in labels


def otlp_url(server, path):
    return "http://127.0.0.1:%d%s" % (server.otlp_http_port, path)


def gauge_request(points, name="temperature"):
    return {"resourceMetrics": [{
        "resource": {"attributes": [{"key": "service.name", "value": {"stringValue": "raw"}}]},
        "scopeMetrics": [{"metrics": [{"name": name, "gauge": {"dataPoints": points}}]}]}]}


def now_ns():
    return str(time.time_ns())


def test_json_partial_success_and_prometheus_path(start_osprey):
    server = start_osprey()
    body = gauge_request([{"asDouble": 21.5, "timeUnixNano": now_ns(), "attributes": [{"key": "room", "value": {"stringValue": "a"}}]},
                          {"asDouble": 1}])
    response = requests.post(otlp_url(server, "/v1/metrics"), data=json.dumps(body), headers={"Content-Type": "application/json"})
    assert response.status_code == 200, response.text
    assert response.headers["Content-Type"] == "application/json"
    partial = response.json()["partialSuccess"]
    assert partial["rejectedDataPoints"] == "1"
    assert "time_unix_nano" in partial["errorMessage"]
    assert single(server, 'temperature{job="raw",room="a"}') == 21.5

    # The same receiver on the main port, where Prometheus serves it.
    body = gauge_request([{"asInt": "7", "timeUnixNano": now_ns()}], name="humidity")
    response = requests.post(server.url + "/api/v1/otlp/v1/metrics", data=json.dumps(body), headers={"Content-Type": "application/json"})
    assert response.status_code == 200 and response.json() == {}
    assert single(server, 'humidity{job="raw"}') == 7


def test_gzip_bodies_and_limits(start_osprey):
    server = start_osprey(extra=["--otlp.max-message-bytes", "65536"])
    body = json.dumps(gauge_request([{"asDouble": 3, "timeUnixNano": now_ns()}], name="zipped")).encode()
    response = requests.post(otlp_url(server, "/v1/metrics"), data=gzip.compress(body),
                             headers={"Content-Type": "application/json", "Content-Encoding": "gzip"})
    assert response.status_code == 200, response.text
    assert single(server, 'zipped{job="raw"}') == 3

    # A small gzip body that inflates past the limit: 413, not an out-of-memory.
    bomb = gzip.compress(b"{" + b" " * (10 << 20) + b"}")
    assert len(bomb) < 65536
    response = requests.post(otlp_url(server, "/v1/metrics"), data=bomb,
                             headers={"Content-Type": "application/json", "Content-Encoding": "gzip"})
    assert response.status_code == 413
    assert "larger than" in response.json()["message"]
    response = requests.post(otlp_url(server, "/v1/metrics"), data=b"x" * 70000, headers={"Content-Type": "application/x-protobuf"})
    assert response.status_code == 413
    response = requests.post(otlp_url(server, "/v1/metrics"), data=b"not gzip",
                             headers={"Content-Type": "application/json", "Content-Encoding": "gzip"})
    assert response.status_code == 400


def test_bad_requests_get_clear_statuses(start_osprey):
    server = start_osprey()
    url = otlp_url(server, "/v1/metrics")
    # Malformed protobuf: 400 with a google.rpc.Status body in protobuf (code 3 = INVALID_ARGUMENT).
    response = requests.post(url, data=b"\x0a\xff\xff\xff\x0f", headers={"Content-Type": "application/x-protobuf"})
    assert response.status_code == 400
    assert response.headers["Content-Type"] == "application/x-protobuf"
    assert response.content[:2] == b"\x08\x03" and b"protobuf" in response.content
    response = requests.post(url, data="{not json", headers={"Content-Type": "application/json"})
    assert response.status_code == 400 and response.json()["code"] == 3
    response = requests.post(url, data="x", headers={"Content-Type": "text/plain"})
    assert response.status_code == 415
    response = requests.post(url, data="{}", headers={"Content-Type": "application/json", "Content-Encoding": "br"})
    assert response.status_code == 415
    response = requests.get(url)
    assert response.status_code == 405 and response.headers["Allow"] == "POST"
    # An empty request is valid and stores nothing.
    response = requests.post(url, data=b"", headers={"Content-Type": "application/x-protobuf"})
    assert response.status_code == 200 and response.content == b""


def test_logs_are_refused_until_stored(start_osprey):
    server = start_osprey()
    response = requests.post(otlp_url(server, "/v1/logs"), data="{}", headers={"Content-Type": "application/json"})
    assert response.status_code == 501
    assert response.json()["code"] == 12
    assert "does not store" in response.json()["message"]
    response = requests.post(otlp_url(server, "/v1/logs"), data=b"", headers={"Content-Type": "application/x-protobuf"})
    assert response.status_code == 501
    script = """
import grpc, sys
channel = grpc.insecure_channel(sys.argv[1])
export = channel.unary_unary("/opentelemetry.proto.collector.logs.v1.LogsService/Export")
try:
    export(b"", timeout=30)
    print("OK")
except grpc.RpcError as error:
    print(error.code().name, error.details())
"""
    done = subprocess.run([venv_python("otel"), "-c", script, "127.0.0.1:%d" % server.otlp_grpc_port],
                          capture_output=True, text=True, timeout=60)
    assert done.stdout.startswith("UNIMPLEMENTED") and "does not store logs" in done.stdout, done.stdout + done.stderr


def test_exemplars_are_queryable(start_osprey):
    server = start_osprey()
    t = now_ns()
    body = {"resourceMetrics": [{
        "resource": {"attributes": [{"key": "service.name", "value": {"stringValue": "ex"}}]},
        "scopeMetrics": [{"metrics": [{"name": "requests", "sum": {"aggregationTemporality": 2, "isMonotonic": True, "dataPoints": [
            {"asInt": "3", "timeUnixNano": t, "exemplars": [
                {"asDouble": 1, "timeUnixNano": t, "traceId": "5b8efff798038103d269b633813fc60c", "spanId": "eee19b7ec3c1b174"}]}]}}]}]}]}
    response = requests.post(otlp_url(server, "/v1/metrics"), data=json.dumps(body), headers={"Content-Type": "application/json"})
    assert response.status_code == 200, response.text
    now = time.time()
    response = requests.get(server.url + "/api/v1/query_exemplars",
                            params={"query": 'rate(requests_total{job="ex"}[5m])', "start": now - 600, "end": now + 60})
    assert response.status_code == 200, response.text
    data = response.json()["data"]
    assert len(data) == 1
    assert data[0]["seriesLabels"] == {"__name__": "requests_total", "job": "ex"}
    exemplar = data[0]["exemplars"][0]
    assert exemplar["labels"] == {"trace_id": "5b8efff798038103d269b633813fc60c", "span_id": "eee19b7ec3c1b174"}
    assert exemplar["value"] == "1"
    assert abs(exemplar["timestamp"] - int(t) / 1e9) < 0.002
    response = requests.get(server.url + "/api/v1/query_exemplars", params={"query": "rate(", "start": now - 600, "end": now})
    assert response.status_code == 400 and response.json()["errorType"] == "bad_data"


def test_grpc_message_over_the_limit_is_resource_exhausted(start_osprey):
    server = start_osprey(extra=["--otlp.max-message-bytes", "1000"])
    script = """
import grpc, sys
channel = grpc.insecure_channel(sys.argv[1])
export = channel.unary_unary("/opentelemetry.proto.collector.metrics.v1.MetricsService/Export")
try:
    export(b"\\x0a\\x00" * 1000, timeout=30)
    print("OK")
except grpc.RpcError as error:
    print(error.code().name)
try:
    export(b"\\x0a\\xff\\xff\\xff\\x0f", timeout=30)
    print("OK")
except grpc.RpcError as error:
    print(error.code().name)
print(export(b"", timeout=30) == b"")
"""
    done = subprocess.run([venv_python("otel"), "-c", script, "127.0.0.1:%d" % server.otlp_grpc_port],
                          capture_output=True, text=True, timeout=60)
    assert done.stdout.split() == ["RESOURCE_EXHAUSTED", "INVALID_ARGUMENT", "True"], done.stdout + done.stderr
