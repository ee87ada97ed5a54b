"""Traces over OTLP from the real OpenTelemetry Python SDK (gRPC, HTTP/protobuf, HTTP/JSON), read
back through the Jaeger query API as the Jaeger UI and Grafana call it."""
import json
import os
import subprocess
import time

import pytest
import requests

from test_otlp import venv_python

HERE = os.path.dirname(__file__)


def export_trace(server, kind, name):
    env = {k: v for k, v in os.environ.items() if not k.startswith("OTEL_")}
    port = server.otlp_grpc_port if kind == "grpc" else server.otlp_http_port
    env.update({
        "OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:%d" % port,
        "OTEL_EXPORTER_OTLP_PROTOCOL": {"grpc": "grpc", "http": "http/protobuf", "json": "http/json"}[kind],
        "OTEL_EXPORTER_OTLP_INSECURE": "true",
    })
    done = subprocess.run([venv_python("otel-json" if kind == "json" else "otel"), os.path.join(HERE, "otel_trace_client.py"), kind, name],
                          env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Failed to export" not in done.stderr, done.stderr
    return done.stdout.strip().splitlines()[-1]


def jaeger(server, path, **params):
    response = requests.get(server.url + path, params=params, timeout=10)
    return response.status_code, response.json()


def tags(items):
    return {t["key"]: (t["type"], t["value"]) for t in items}


@pytest.mark.parametrize("kind", ["grpc", "http", "json"])
def test_a_trace_reads_back_through_the_jaeger_api(start_osprey, kind):
    server = start_osprey()
    name = "shop-" + kind
    trace_id = export_trace(server, kind, name)

    status, body = jaeger(server, "/api/traces/" + trace_id)
    assert status == 200, body
    assert body["errors"] is None and len(body["data"]) == 1
    trace = body["data"][0]
    assert trace["traceID"] == trace_id
    spans = {s["operationName"]: s for s in trace["spans"]}
    assert set(spans) == {"GET /checkout", "SELECT orders"}
    root, child = spans["GET /checkout"], spans["SELECT orders"]
    assert root["references"] == []
    refs = child["references"]
    assert refs[0] == {"refType": "CHILD_OF", "traceID": trace_id, "spanID": root["spanID"]}
    assert refs[1]["refType"] == "FOLLOWS_FROM" and refs[1]["traceID"] != trace_id
    root_tags = tags(root["tags"])
    assert root_tags["http.method"] == ("string", "GET")
    assert root_tags["http.status_code"] == ("int64", 200)
    assert root_tags["ratio"] == ("float64", 0.5)
    assert root_tags["cached"] == ("bool", True)
    assert root_tags["tags"] == ("string", '["a","b"]')
    assert root_tags["span.kind"] == ("string", "server")
    assert root_tags["otel.scope.name"] == ("string", "shop.frontend")
    assert root_tags["otel.scope.version"] == ("string", "1.2.3")
    child_tags = tags(child["tags"])
    assert child_tags["error"] == ("bool", True)
    assert child_tags["otel.status_code"] == ("string", "ERROR")
    assert child_tags["otel.status_description"] == ("string", "timeout")
    assert child_tags["span.kind"] == ("string", "client")
    assert root["logs"][0]["fields"][0] == {"key": "event", "type": "string", "value": "started"}
    assert tags(root["logs"][0]["fields"])["step"] == ("int64", 1)
    assert child["duration"] >= 10_000 and root["startTime"] <= child["startTime"]
    processes = trace["processes"]
    assert processes[root["processID"]]["serviceName"] == name + "-frontend"
    assert processes[child["processID"]]["serviceName"] == name + "-backend"
    assert tags(processes[root["processID"]]["tags"])["host.name"] == ("string", "h-" + name + "-frontend")

    status, body = jaeger(server, "/api/services")
    assert status == 200 and {name + "-frontend", name + "-backend"} <= set(body["data"])
    status, body = jaeger(server, "/api/services/%s-frontend/operations" % name)
    assert sorted(body["data"]) == ["GET /checkout", "warmup"]
    status, body = jaeger(server, "/api/operations", service=name + "-backend", spanKind="client")
    assert body["data"] == [{"name": "SELECT orders", "spanKind": "client"}]

    # Search as Grafana and the Jaeger UI do: microsecond times, tags as JSON or logfmt.
    now = int(time.time() * 1e6)
    found = lambda **p: [t["traceID"] for t in jaeger(server, "/api/traces", service=name + "-backend", start=now - 600_000_000, end=now, **p)[1]["data"]]
    assert found() == [trace_id]
    assert found(tags=json.dumps({"error": "true"})) == [trace_id]
    assert found(tags="db.system=postgresql error=true") == [trace_id]
    assert found(operation="SELECT orders", minDuration="5ms") == [trace_id]
    assert found(maxDuration="1ms") == []
    assert found(tags=json.dumps({"http.method": "GET"})) == []  # that tag is on another service's span
    status, body = jaeger(server, "/api/dependencies", endTs=int(time.time() * 1000), lookback=600_000)
    assert {"parent": name + "-frontend", "child": name + "-backend", "callCount": 1} in body["data"]


def test_jaeger_errors(start_osprey):
    server = start_osprey()
    status, body = jaeger(server, "/api/traces/0123456789abcdef0123456789abcdef")
    assert status == 404 and body["errors"][0]["code"] == 404 and body["data"] is None
    status, body = jaeger(server, "/api/traces/xyz")
    assert status == 400 and body["errors"][0]["code"] == 400
    for params in ({}, {"service": "a", "limit": "-1"}, {"service": "a", "minDuration": "fast"}, {"service": "a", "start": "x"},
                   {"service": "a", "tags": "{broken"}):
        status, body = jaeger(server, "/api/traces", **params)
        assert status == 400, params
        assert body["errors"][0]["msg"], params
    status, body = jaeger(server, "/api/operations")
    assert status == 400


def test_spans_survive_a_kill(start_osprey, workdir):
    server = start_osprey()
    trace_id = export_trace(server, "http", "durable")
    server.kill9()
    restarted = start_osprey(data_dir=os.path.join(workdir, "osprey-data"))
    status, body = jaeger(restarted, "/api/traces/" + trace_id)
    assert status == 200 and len(body["data"][0]["spans"]) == 2


@pytest.mark.parametrize("encoding", ["json", "proto"])
def test_zipkin_spans_read_back_through_the_jaeger_api(start_osprey, encoding):
    from conftest import free_port
    port = free_port()
    server = start_osprey(extra=["--zipkin.address", "127.0.0.1:%d" % port])
    env = {k: v for k, v in os.environ.items() if not k.startswith("OTEL_")}
    env["OTEL_EXPORTER_ZIPKIN_ENDPOINT"] = "http://127.0.0.1:%d/api/v2/spans" % port
    name = "zipkin-" + encoding
    done = subprocess.run([venv_python("otel-zipkin"), os.path.join(HERE, "zipkin_trace_client.py"), encoding, name],
                          env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0 and "Failed" not in done.stderr, done.stdout + done.stderr
    trace_id = done.stdout.strip().splitlines()[-1]
    status, body = jaeger(server, "/api/traces/" + trace_id)
    assert status == 200, body
    trace = body["data"][0]
    spans = {s["operationName"]: s for s in trace["spans"]}
    root, child = spans["GET /orders"], spans["query"]
    assert child["references"][0] == {"refType": "CHILD_OF", "traceID": trace_id, "spanID": root["spanID"]}
    assert trace["processes"][root["processID"]]["serviceName"] == name + "-web"
    assert trace["processes"][child["processID"]]["serviceName"] == name + "-db"
    root_tags = tags(root["tags"])
    assert root_tags["http.method"] == ("string", "GET")
    assert root_tags["span.kind"] == ("string", "server")
    child_tags = tags(child["tags"])
    assert child_tags["error"] == ("bool", True) and child_tags["otel.status_description"] == ("string", "boom")
    assert root["logs"][0]["fields"][0]["value"] == "cache miss"
    # Garbage and a wrong content type get 4xx.
    assert requests.post("http://127.0.0.1:%d/api/v2/spans" % port, data="[{", headers={"Content-Type": "application/json"}).status_code == 400
    assert requests.post("http://127.0.0.1:%d/api/v2/spans" % port, data="x", headers={"Content-Type": "text/plain"}).status_code == 415
    bad = [{"traceId": "xyz", "id": "0000000000000001", "timestamp": 1}]
    assert requests.post("http://127.0.0.1:%d/api/v2/spans" % port, json=bad).status_code == 400


def test_osprey_traces_cli(start_osprey):
    from conftest import osprey_binary
    server = start_osprey()
    trace_id = export_trace(server, "http", "cli")
    done = subprocess.run([osprey_binary(), "traces", "get", trace_id, "--server", server.url], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0] == "trace %s (2 spans)" % trace_id
    assert lines[1].startswith("  cli-frontend: GET /checkout +0µs")
    assert lines[2].startswith("    cli-backend: SELECT orders") and lines[2].endswith("ERROR")
    done = subprocess.run([osprey_binary(), "traces", "search", "--service", "cli-backend", "--tag", "error=true", "--server", server.url],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0 and done.stdout.startswith(trace_id) and "2 spans" in done.stdout, done.stdout + done.stderr
    done = subprocess.run([osprey_binary(), "traces", "get", "0" * 32, "--server", server.url], capture_output=True, text=True, timeout=60)
    assert done.returncode == 1 and "trace not found" in done.stderr


def test_jaeger_api_v3(start_osprey):
    server = start_osprey()
    trace_id = export_trace(server, "grpc", "v3")
    response = requests.get(server.url + "/api/v3/traces/" + trace_id)
    assert response.status_code == 200, response.text
    result = response.json()["result"]
    spans = {s["name"]: (rs, s) for rs in result["resourceSpans"] for ss in rs["scopeSpans"] for s in ss["spans"]}
    resource, root = spans["GET /checkout"]
    _, child = spans["SELECT orders"]
    assert root["traceId"] == trace_id and child["parentSpanId"] == root["spanId"]
    assert root["kind"] == 2 and child["kind"] == 3  # integers, as Jaeger writes them
    assert child["status"] == {"message": "timeout", "code": 2}
    assert isinstance(root["startTimeUnixNano"], str)
    attributes = {a["key"]: a["value"] for a in root["attributes"]}
    assert attributes["http.status_code"] == {"intValue": "200"} and attributes["cached"] == {"boolValue": True}
    assert attributes["tags"] == {"arrayValue": {"values": [{"stringValue": "a"}, {"stringValue": "b"}]}}
    assert {"key": "service.name", "value": {"stringValue": "v3-frontend"}} in resource["resource"]["attributes"]
    assert child["links"][0]["traceId"] != trace_id

    assert "v3-backend" in requests.get(server.url + "/api/v3/services").json()["services"]
    operations = requests.get(server.url + "/api/v3/operations", params={"service": "v3-backend", "spanKind": "client"}).json()
    assert operations == {"operations": [{"name": "SELECT orders", "spanKind": "client"}]}
    now = time.time()
    window = {"query.start_time_min": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now - 600)),
              "query.startTimeMax": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now + 60))}
    found = requests.get(server.url + "/api/v3/traces", params={"query.serviceName": "v3-backend", "query.attributes[error]": "true", **window})
    assert found.status_code == 200, found.text
    ids = {s["traceId"] for rs in found.json()["result"]["resourceSpans"] for ss in rs["scopeSpans"] for s in ss["spans"]}
    assert ids == {trace_id}
    missing = requests.get(server.url + "/api/v3/traces", params={"query.serviceName": "v3-backend"})
    assert missing.status_code == 400 and missing.json()["error"]["grpcCode"] == 3
    unknown = requests.get(server.url + "/api/v3/traces/" + "0" * 31 + "1")
    assert unknown.status_code == 404 and unknown.json()["error"]["httpCode"] == 404


def test_a_huge_trace_is_cut_with_a_warning(start_osprey):
    server = start_osprey(extra=["--traces.max-spans-per-trace", "100"])
    trace_id = "%032x" % 0xABCDEF
    now = time.time_ns()
    spans = [{"traceId": trace_id, "spanId": "%016x" % (i + 1), "parentSpanId": "%016x" % 1 if i else "",
              "name": "op-%d" % i, "kind": 2, "startTimeUnixNano": str(now - 60_000_000_000 + i * 1000),
              "endTimeUnixNano": str(now - 60_000_000_000 + i * 1000 + 500)} for i in range(2000)]
    body = {"resourceSpans": [{"resource": {"attributes": [{"key": "service.name", "value": {"stringValue": "huge"}}]},
                               "scopeSpans": [{"spans": spans}]}]}
    response = requests.post("http://127.0.0.1:%d/v1/traces" % server.otlp_http_port, data=json.dumps(body),
                             headers={"Content-Type": "application/json"})
    assert response.status_code == 200 and response.json() == {}, response.text
    status, body = jaeger(server, "/api/traces/" + trace_id)
    assert status == 200
    trace = body["data"][0]
    assert len(trace["spans"]) == 100
    assert trace["warnings"] == ["trace has 2000 spans; only the first 100 are shown (--traces.max-spans-per-trace)"]
    assert [s["operationName"] for s in trace["spans"][:3]] == ["op-0", "op-1", "op-2"]
    # The server still answers at once.
    status, body = jaeger(server, "/api/services")
    assert status == 200 and "huge" in body["data"]
