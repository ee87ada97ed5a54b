#!/usr/bin/env python3
"""Trace store benchmark (issue 8): OTLP/gRPC span ingest, bytes on disk per span, trace by ID
and search latency, memory as the store grows.

No tracing backend runs on this machine to compare with, so the figures stand against the
issue's targets: >= 200k spans/s over OTLP gRPC in batches of 512 on 2 cores, <= 40 bytes per
realistic ~1 KB span once blocks are cut, trace by ID p99 < 10 ms, a search by service and one
attribute over the last hour < 200 ms, memory flat while the store grows.

Workload: traces of 10 spans (an HTTP server span and 9 children over 4 services: HTTP
client/server pairs and database calls), each span about 1 KB of OTLP protobuf with the
attributes OpenTelemetry's HTTP and database instrumentations set (URLs with ids, user agents,
peer addresses, sizes, thread ids). Requests carry 512 spans. They are encoded before the clock
starts from per-request templates whose fixed-width fields (IDs, times, ids in URLs) are patched,
and sent as raw bytes by grpcio (from the OpenTelemetry test venv) over CONNECTIONS channels.
The generator's CPU is measured apart from the server's.

Usage: bench/compare/traces.py [--spans 2000000] [--connections 2] [--osprey PATH]
"""
import argparse
import json
import os
import random
import statistics
import struct
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import Server, length_delimited as ld, proc_cpu_seconds, proc_status_kib, varint  # noqa: E402

VENVS = os.environ.get("OSPREY_TEST_VENVS", os.path.expanduser("~/.cache/osprey-test-venvs"))
SPANS_PER_REQUEST = 512
SPANS_PER_TRACE = 10


def log(message):
    print("[traces-bench %s] %s" % (time.strftime("%H:%M:%S"), message), file=sys.stderr, flush=True)


def kv(key, value):
    if isinstance(value, bool):
        any_value = varint(2 << 3) + varint(1 if value else 0)
    elif isinstance(value, int):
        any_value = varint(3 << 3) + varint(value & 0xFFFFFFFFFFFFFFFF)
    else:
        any_value = ld(1, value.encode())
    return ld(1, key.encode()) + ld(2, any_value)


SERVICES = ["frontend", "cart", "checkout", "inventory"]
AGENTS = [
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_2) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.2 Safari/605.1.15",
    "Mozilla/5.0 (X11; Linux x86_64; rv:121.0) Gecko/20100101 Firefox/121.0",
]
ROUTES = ["/api/v1/users/{id}", "/api/v1/carts/{id}/items", "/api/v1/orders/{id}", "/api/v1/products/{id}/stock"]


def span_template(index_in_trace, rng):
    """(bytes, offsets) of one Span message; offsets of the fields patched per span:
    trace id, span id, parent id, start, end, the 8-digit id in the URL."""
    service = SERVICES[0 if index_in_trace == 0 else 1 + (index_in_trace - 1) % 3]
    route = rng.choice(ROUTES)
    is_db = index_in_trace % 3 == 2
    kind = 2 if index_in_trace == 0 or index_in_trace % 3 == 1 else 3  # server / client
    if is_db:
        name = "SELECT shop.orders"
        attributes = [("db.system", "postgresql"), ("db.name", "shop"), ("db.user", "shop_rw"),
                      ("db.statement", "SELECT id, user_id, status, total_cents, created_at, updated_at FROM orders WHERE user_id = $1 AND status = ANY($2) ORDER BY created_at DESC LIMIT 50"),
                      ("db.operation", "SELECT"), ("db.sql.table", "orders"), ("net.peer.name", "postgres.shop.svc.cluster.local"),
                      ("net.peer.port", 5432), ("thread.id", rng.randrange(100, 200)), ("thread.name", "pool-1-thread-%d" % rng.randrange(1, 20)),
                      ("code.function", "findRecentOrders"), ("code.namespace", "com.example.shop.orders.OrderRepository"),
                      ("db.connection_string", "postgresql://postgres.shop.svc.cluster.local:5432/shop"),
                      ("db.instance.id", "postgres-shop-primary-0"), ("deployment.environment", "production"),
                      ("db.postgresql.pool.name", "HikariPool-1"), ("cloud.region", "eu-central-1"),
                      ("db.response.rows", rng.randrange(0, 50)), ("peer.service", "postgres")]
    else:
        name = ("GET " if kind == 2 else "HTTP GET ") + route
        attributes = [("http.method", "GET"), ("http.route", route), ("http.target", route.replace("{id}", "00000000")),
                      ("http.url", "https://shop.example.com" + route.replace("{id}", "00000000")),
                      ("http.scheme", "https"), ("http.status_code", rng.choice([200, 200, 200, 200, 201, 404, 500])),
                      ("http.flavor", "1.1"), ("http.user_agent", rng.choice(AGENTS)),
                      ("http.request_content_length", rng.randrange(0, 4000)), ("http.response_content_length", rng.randrange(200, 60000)),
                      ("net.host.name", "shop.example.com"), ("net.host.port", 443),
                      ("net.peer.ip", "10.%d.%d.%d" % (rng.randrange(256), rng.randrange(256), rng.randrange(256))),
                      ("net.peer.port", rng.randrange(30000, 60000)), ("thread.id", rng.randrange(100, 200)),
                      ("thread.name", "http-nio-8080-exec-%d" % rng.randrange(1, 50)),
                      ("code.function", "handle"), ("code.namespace", "com.example.shop.web.%sController" % service.capitalize()),
                      ("enduser.id", "user-00000000"), ("session.id", "8f14e45fceea167a5a36dedd4bea2543"),
                      ("http.response.header.content_type", "application/json; charset=utf-8"),
                      ("http.request.header.accept", "application/json, text/plain, */*"),
                      ("http.request.header.accept_language", "en-US,en;q=0.9,de;q=0.8"),
                      ("deployment.environment", "production"), ("cloud.region", "eu-central-1")]
    body = bytearray()
    offsets = {}
    offsets["trace"] = len(body) + 2
    body += ld(1, b"\0" * 16)
    offsets["span"] = len(body) + 2
    body += ld(2, b"\0" * 8)
    if index_in_trace > 0:
        offsets["parent"] = len(body) + 2
        body += ld(4, b"\0" * 8)
    body += ld(5, name.encode())
    body += varint(6 << 3) + varint(kind)
    offsets["start"] = len(body) + 1
    body += varint(7 << 3 | 1) + b"\0" * 8
    offsets["end"] = len(body) + 1
    body += varint(8 << 3 | 1) + b"\0" * 8
    url_offsets = []
    for key, value in attributes:
        encoded = kv(key, value)
        header = varint(9 << 3 | 2) + varint(len(encoded))
        if isinstance(value, str) and "00000000" in value:
            url_offsets.append(len(body) + len(header) + encoded.index(b"00000000"))
        body += header + encoded
    offsets["ids"] = url_offsets
    if kind == 2 and index_in_trace == 0 and rng.random() < 0.3:
        body += ld(11, varint(1 << 3 | 1) + b"\0" * 8 + ld(2, b"exception") + ld(3, kv("exception.type", "java.lang.IllegalStateException")))
    return service, bytes(body), offsets


def resource(service, host):
    attributes = [("service.name", service), ("service.version", "2.14.1"), ("service.namespace", "shop"),
                  ("host.name", host), ("host.arch", "amd64"), ("os.type", "linux"), ("process.pid", 4242),
                  ("process.runtime.name", "OpenJDK Runtime Environment"), ("process.runtime.version", "21.0.1+12-LTS"),
                  ("telemetry.sdk.name", "opentelemetry"), ("telemetry.sdk.language", "java"), ("telemetry.sdk.version", "1.33.0"),
                  ("k8s.namespace.name", "shop"), ("k8s.pod.name", "%s-7d9f8c6b5-x2k4p" % service), ("k8s.node.name", "node-3")]
    return b"".join(ld(1, kv(k, v)) for k, v in attributes)  # a Resource message: its attributes


def build_requests(total_spans, seed=7):
    """Yields encoded ExportTraceServiceRequests of 512 spans; returns (count, bytes, ids)."""
    rng = random.Random(seed)
    templates = [span_template(i, rng) for i in range(SPANS_PER_TRACE)]
    span_bytes = statistics.mean(len(t[1]) for t in templates)
    log("span template: %.0f bytes of protobuf on average (resource apart)" % span_bytes)
    now_ns = time.time_ns()
    start_ns = now_ns - 50 * 60 * 1_000_000_000  # 50 minutes of history
    traces = total_spans // SPANS_PER_TRACE
    step = (50 * 60 * 1_000_000_000) // max(1, traces)
    sample_ids = []
    requests = []
    trace = 0
    while trace < traces:
        by_service = {s: [] for s in SERVICES}
        count = 0
        while count + SPANS_PER_TRACE <= SPANS_PER_REQUEST and trace < traces:
            trace_id = rng.getrandbits(128).to_bytes(16, "big")
            if len(sample_ids) < 2000 and rng.random() < 0.01:
                sample_ids.append(trace_id.hex())
            span_ids = [rng.getrandbits(64).to_bytes(8, "big") for _ in range(SPANS_PER_TRACE)]
            t0 = start_ns + trace * step
            for i, (service, body, offsets) in enumerate(templates):
                span = bytearray(body)
                span[offsets["trace"]:offsets["trace"] + 16] = trace_id
                span[offsets["span"]:offsets["span"] + 8] = span_ids[i]
                if "parent" in offsets:
                    parent = 0 if i % 3 == 1 else i - 1
                    span[offsets["parent"]:offsets["parent"] + 8] = span_ids[parent]
                start = t0 + i * 1_000_000 + rng.randrange(0, 500_000)
                struct.pack_into("<Q", span, offsets["start"], start)
                struct.pack_into("<Q", span, offsets["end"], start + rng.randrange(200_000, 80_000_000))
                ident = b"%08d" % rng.randrange(100_000_000)
                for at in offsets["ids"]:
                    span[at:at + 8] = ident
                by_service[service].append(bytes(span))
            count += SPANS_PER_TRACE
            trace += 1
        body = b""
        for service, spans in by_service.items():
            if not spans:
                continue
            scope = ld(1, ld(1, b"io.opentelemetry.tomcat-10.0") + ld(2, b"1.33.0-alpha"))
            scope_spans = scope + b"".join(ld(2, s) for s in spans)
            body += ld(1, ld(1, resource(service, "node-3")) + ld(2, scope_spans))
        requests.append(body)
    return requests, span_bytes, sample_ids


SENDER = r"""
import grpc, json, struct, sys, threading, time
port, path, connections = int(sys.argv[1]), sys.argv[2], int(sys.argv[3])
bodies = []
with open(path, "rb") as f:
    while True:
        header = f.read(4)
        if not header:
            break
        (length,) = struct.unpack("<I", header)
        bodies.append(f.read(length))
failures = []
def worker(index):
    channel = grpc.insecure_channel("127.0.0.1:%d" % port, options=[("grpc.max_send_message_length", 64 << 20)])
    export = channel.unary_unary("/opentelemetry.proto.collector.trace.v1.TraceService/Export")
    for number in range(index, len(bodies), connections):
        try:
            response = export(bodies[number], timeout=120)
            if response:
                failures.append("partial success: %r" % response[:300])
        except grpc.RpcError as error:
            failures.append(str(error)[:300])
    channel.close()
sys.stdin.readline()
start = time.monotonic()
threads = [threading.Thread(target=worker, args=(i,)) for i in range(connections)]
for t in threads: t.start()
for t in threads: t.join()
print(json.dumps({"requests": len(bodies), "failures": len(failures), "errors": failures[:3], "seconds": time.monotonic() - start}), flush=True)
"""


def get_json(url):
    with urllib.request.urlopen(url, timeout=60) as response:
        return json.loads(response.read())


def tree_bytes(path):
    total = 0
    for root, _, files in os.walk(path):
        for name in files:
            total += os.path.getsize(os.path.join(root, name))
    return total


def percentile(values, p):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--spans", type=int, default=2_000_000)
    parser.add_argument("--connections", type=int, default=2)
    parser.add_argument("--osprey", default=None)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="osprey-traces-bench-") as workdir:
        log("encoding %d spans" % args.spans)
        requests, span_bytes, sample_ids = build_requests(args.spans)
        bodies_path = os.path.join(workdir, "bodies")
        with open(bodies_path, "wb") as f:
            for body in requests:
                f.write(struct.pack("<I", len(body)))
                f.write(body)
        request_bytes = os.path.getsize(bodies_path) - 4 * len(requests)
        spans = len(requests) * SPANS_PER_REQUEST
        server = Server("osprey", workdir, args.osprey, extra={"osprey": ["--traces.block-duration", "1m"]})
        argv = server.argv
        grpc_port = int(argv[argv.index("--otlp.grpc-address") + 1].rsplit(":", 1)[1])
        with server:
            sender = subprocess.Popen([os.path.join(VENVS, "otel", "bin", "python"), "-c", SENDER, str(grpc_port), bodies_path, str(args.connections)],
                                      stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            time.sleep(max(3.0, request_bytes / 300e6))
            cpu_before = proc_cpu_seconds(server.pid)
            sender_cpu_before = proc_cpu_seconds(sender.pid)
            rss_samples = []
            wall_before = time.monotonic()
            sender.stdin.write("go\n")
            sender.stdin.flush()
            while sender.poll() is None:
                rss_samples.append(proc_status_kib(server.pid, "VmRSS"))
                time.sleep(0.5)
            out, err = sender.communicate()
            wall = time.monotonic() - wall_before
            cpu = proc_cpu_seconds(server.pid) - cpu_before
            result = json.loads(out.strip().splitlines()[-1])
            log("sent %d requests in %.1f s, %d failures %s" % (result["requests"], wall, result["failures"], result.get("errors")))
            # Wait for the head to be cut into blocks (block duration 1m, maintenance every 15 s).
            traces_dir = os.path.join(workdir, "osprey", "traces")
            deadline = time.time() + 150
            while time.time() < deadline:
                head_wal = tree_bytes(os.path.join(traces_dir, "wal"))
                if head_wal < 1 << 20 and os.listdir(os.path.join(traces_dir, "blocks")):
                    break
                time.sleep(5)
            block_bytes = tree_bytes(os.path.join(traces_dir, "blocks"))
            rss_after = proc_status_kib(server.pid, "VmRSS")
            # Trace by ID.
            by_id = []
            for trace_id in sample_ids:
                started = time.perf_counter()
                body = get_json(server.url + "/api/traces/" + trace_id)
                by_id.append((time.perf_counter() - started) * 1000)
                assert len(body["data"][0]["spans"]) == SPANS_PER_TRACE, body
            # Search: service and one attribute over the last hour.
            search = []
            now_us = int(time.time() * 1e6)
            for _ in range(20):
                started = time.perf_counter()
                query = urllib.parse.urlencode({"service": "cart", "tags": json.dumps({"http.method": "GET"}), "limit": 20,
                                                "start": now_us - 3600_000_000, "end": now_us})
                body = get_json(server.url + "/api/traces?" + query)
                search.append((time.perf_counter() - started) * 1000)
            found = len(body["data"])
        print()
        print("Trace store: %d spans (%d traces of %d spans, %.0f-byte spans), %d spans per request, %d gRPC connections, %d cores"
              % (spans, spans // SPANS_PER_TRACE, SPANS_PER_TRACE, span_bytes, SPANS_PER_REQUEST, args.connections, os.cpu_count()))
        print()
        print("| figure | value | target |")
        print("|---|---|---|")
        print("| ingest, spans/s (wall) | %.0f | >= 200000 |" % (spans / wall))
        print("| server CPU, µs per span | %.2f | - |" % (cpu / spans * 1e6))
        print("| failed requests | %d of %d | 0 |" % (result["failures"], result["requests"]))
        print("| request bytes per span (protobuf) | %.0f | - |" % (request_bytes / spans))
        print("| block bytes per span | %.1f | <= 40 |" % (block_bytes / spans))
        print("| trace by ID, ms p50 / p99 (%d lookups) | %.1f / %.1f | p99 < 10 |" % (len(by_id), percentile(by_id, 50), percentile(by_id, 99)))
        print("| search service + attribute, last hour, ms p50 / max (%d found) | %.0f / %.0f | < 200 |" % (found, percentile(search, 50), max(search)))
        print("| server RSS during ingest, MiB min / max | %.0f / %.0f | flat |" % (min(rss_samples) / 1024, max(rss_samples) / 1024))
        print("| server RSS after the cut, MiB | %.0f | - |" % (rss_after / 1024))


if __name__ == "__main__":
    main()
