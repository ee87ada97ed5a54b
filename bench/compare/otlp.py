#!/usr/bin/env python3
"""OTLP metrics ingest next to remote-write ingest of the same samples (issue 7).

No peer on this machine speaks OTLP (Debian's Prometheus 2.42 and VictoriaMetrics 1.79 predate
their receivers), so the yardstick is Osprey's own remote-write path: the same samples go to a
fresh Osprey once per transport, and the report compares them.

Workload: RESOURCES services (service.name, service.instance.id) × METRICS gauges × COMBOS
attribute sets (3 attributes each, node_exporter-like) = series; ROUNDS rounds of one point per
series, 15 s apart, ending now. One request per resource and round (METRICS × COMBOS points,
2000 by default). Remote write gets the identical samples, labelled as the OTLP translation labels
them (`__name__`, `job`, `instance`, the attributes), in snappy-compressed WriteRequests.

- remote-write and OTLP HTTP/protobuf: bench/compare/loadgen (C, keep-alive HTTP/1.1) sends
  bodies encoded before the clock starts;
- OTLP gRPC: grpcio in the OpenTelemetry test venv sends pre-encoded messages as raw bytes
  (the venv comes from scripts/install-test-deps.sh).
Requests of one resource go over one connection in round order. The server's CPU (utime + stime
from /proc, sampled before and after) is what is compared; the generator's is not counted.
The machines are shared and noisy: each transport runs --repeat times, interleaved with the
others (a fresh server each time), and the report gives the median of each figure.

Usage: bench/compare/otlp.py [--resources 10] [--metrics 20] [--combos 100] [--rounds 200]
       [--connections 2] [--repeat 5] [--osprey PATH]
"""
import statistics
import argparse
import json
import os
import struct
import subprocess
import sys
import tempfile
import time
import urllib.parse

import cramjam

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import HERE, Server, http_json, proc_cpu_seconds, varint, wait_idle  # noqa: E402

MODES = ("remote-write", "otlp-http", "otlp-grpc")
VENVS = os.environ.get("OSPREY_TEST_VENVS", os.path.expanduser("~/.cache/osprey-test-venvs"))


def log(message):
    print("[otlp-bench %s] %s" % (time.strftime("%H:%M:%S"), message), file=sys.stderr, flush=True)


# -- protobuf encoding -------------------------------------------------------------------------

def field(number, wire, payload):
    key = varint(number << 3 | wire)
    if wire == 2:
        return key + varint(len(payload)) + payload
    return key + payload


def string(number, text):
    return field(number, 2, text.encode())


def key_value(key, value):
    return field(1, 2, string(1, key) + field(2, 2, string(1, value)))  # KeyValue{key, AnyValue{string_value}}


class Workload:
    def __init__(self, args):
        self.args = args
        self.modes = ["idle", "user", "system", "iowait", "irq"]
        self.metric_names = ["bench_metric_%02d" % m for m in range(args.metrics)]
        self.combos = [(str(c % 16), self.modes[c % len(self.modes)], "dev-%d" % (c // 16)) for c in range(args.combos)]
        self.points_per_request = args.metrics * args.combos
        now_ms = int(time.time() * 1000)
        self.first_ms = now_ms - (args.rounds + 1) * 15_000

    def value(self, resource, index, round_number):
        # A deterministic gauge random walk per series, two decimals.
        seed = (resource * 1_000_003 + index * 7919) % 10_007
        return round(seed + (round_number * (index % 7 + 1)) * 0.25, 2)

    def timestamp_ms(self, round_number):
        return self.first_ms + round_number * 15_000

    def otlp_template(self, resource):
        """ExportMetricsServiceRequest with zero times and values, and the offsets of each
        point's fixed64 time and double value, in series order."""
        scope_body = bytearray(field(1, 2, string(1, "bench")))  # InstrumentationScope{name}
        offsets_in_scope = []
        for metric_name in self.metric_names:
            gauge = bytearray()
            point_offsets = []
            for cpu, mode, device in self.combos:
                # NumberDataPoint: attributes (7), time_unix_nano (3, fixed64), as_double (4).
                attrs = b"".join(field(7, 2, string(1, k) + field(2, 2, string(1, v)))
                                 for k, v in (("cpu", cpu), ("mode", mode), ("device", device)))
                point = attrs + b"\x19" + b"\0" * 8 + b"\x21" + b"\0" * 8
                header = varint(1 << 3 | 2) + varint(len(point))
                at = len(gauge) + len(header) + len(attrs)
                point_offsets.append((at + 1, at + 10))
                gauge += header + point
            name_field = string(1, metric_name)
            gauge_header = varint(5 << 3 | 2) + varint(len(gauge))
            metric_body = name_field + gauge_header + bytes(gauge)
            metric_header = varint(2 << 3 | 2) + varint(len(metric_body))
            base = len(scope_body) + len(metric_header) + len(name_field) + len(gauge_header)
            offsets_in_scope += [(base + t, base + v) for t, v in point_offsets]
            scope_body += metric_header + metric_body
        resource_field = field(1, 2, key_value("service.name", "bench") + key_value("service.instance.id", "host-%d" % resource))
        scope_header = varint(2 << 3 | 2) + varint(len(scope_body))
        resource_metrics = resource_field + scope_header + bytes(scope_body)
        top_header = varint(1 << 3 | 2) + varint(len(resource_metrics))
        base = len(top_header) + len(resource_field) + len(scope_header)
        return bytearray(top_header + resource_metrics), [(base + t, base + v) for t, v in offsets_in_scope]

    def rw_template(self, resource):
        """WriteRequest with zero value and a 6-byte timestamp varint; offsets per series."""
        out = bytearray()
        offsets = []
        ts_len = len(varint(self.timestamp_ms(0)))
        for metric_name in self.metric_names:
            for cpu, mode, device in self.combos:
                labels = [("__name__", metric_name), ("cpu", cpu), ("device", device), ("instance", "host-%d" % resource),
                          ("job", "bench"), ("mode", mode)]
                label_bytes = b"".join(field(1, 2, string(1, n) + string(2, v)) for n, v in labels)
                sample = b"\x09" + b"\0" * 8 + b"\x10" + b"\x80" * (ts_len - 1) + b"\x01"
                series = label_bytes + field(2, 2, sample)
                header = varint(1 << 3 | 2) + varint(len(series))
                start = len(out) + len(header) + len(label_bytes) + 2  # + sample key and length
                offsets.append((start + 1 + 8 + 1, start + 1))
                out += header + series
        return out, offsets, ts_len

    def bodies(self, mode):
        """(shard, body) in send order: round by round, resource by resource."""
        args = self.args
        templates = []
        for resource in range(args.resources):
            if mode == "remote-write":
                templates.append(self.rw_template(resource))
            else:
                templates.append(self.otlp_template(resource) + (0,))
        for round_number in range(args.rounds):
            t_ms = self.timestamp_ms(round_number)
            for resource in range(args.resources):
                template, offsets, ts_len = templates[resource]
                body = bytearray(template)
                if mode == "remote-write":
                    ts = varint(t_ms)
                    assert len(ts) == ts_len
                    for index, (ts_offset, value_offset) in enumerate(offsets):
                        body[ts_offset:ts_offset + ts_len] = ts
                        struct.pack_into("<d", body, value_offset, self.value(resource, index, round_number))
                    yield resource, bytes(cramjam.snappy.compress_raw(bytes(body)))
                else:
                    t_ns = t_ms * 1_000_000
                    for index, (ts_offset, value_offset) in enumerate(offsets):
                        struct.pack_into("<Q", body, ts_offset, t_ns)
                        struct.pack_into("<d", body, value_offset, self.value(resource, index, round_number))
                    yield resource, bytes(body)


def write_bodies(path, bodies):
    count = 0
    size = 0
    with open(path, "wb") as f:
        for shard, body in bodies:
            f.write(struct.pack("<II", len(body), shard))
            f.write(body)
            count += 1
            size += len(body)
    return count, size


GRPC_SENDER = r"""
import grpc, json, struct, sys, threading, time
port, path, connections = int(sys.argv[1]), sys.argv[2], int(sys.argv[3])
bodies = []
with open(path, "rb") as f:
    while True:
        header = f.read(8)
        if not header:
            break
        length, shard = struct.unpack("<II", header)
        bodies.append((shard, f.read(length)))
failures = []
def worker(index):
    channel = grpc.insecure_channel("127.0.0.1:%d" % port, options=[("grpc.max_send_message_length", 64 << 20)])
    export = channel.unary_unary("/opentelemetry.proto.collector.metrics.v1.MetricsService/Export")
    for shard, body in bodies:
        if shard % connections != index:
            continue
        try:
            response = export(body, timeout=120)
            if response:
                failures.append("partial success: %r" % response[:200])
        except grpc.RpcError as error:
            failures.append(str(error)[:300])
    channel.close()
sys.stdin.readline()  # start when told, after the bodies are loaded
start = time.monotonic()
threads = [threading.Thread(target=worker, args=(i,)) for i in range(connections)]
for t in threads: t.start()
for t in threads: t.join()
print(json.dumps({"requests": len(bodies), "failures": len(failures), "errors": failures[:3], "seconds": time.monotonic() - start}), flush=True)
"""


def run_mode(mode, workload, args, workdir, attempt):
    bodies_path = os.path.join(workdir, mode + ".bodies")
    if not os.path.exists(bodies_path):
        log("%s: encoding the bodies" % mode)
        write_bodies(bodies_path, workload.bodies(mode))
    requests = args.rounds * args.resources
    size = os.path.getsize(bodies_path) - 8 * requests
    points = requests * workload.points_per_request
    serverdir = os.path.join(workdir, "%s-%d" % (mode, attempt))
    os.makedirs(serverdir, exist_ok=True)
    server = Server("osprey", serverdir, args.osprey)
    argv = server.argv
    grpc_port = int(argv[argv.index("--otlp.grpc-address") + 1].rsplit(":", 1)[1])
    http_port = int(argv[argv.index("--otlp.http-address") + 1].rsplit(":", 1)[1])
    with server:
        wait_idle(server.pid, quiet_seconds=2, timeout=30)
        if mode == "otlp-grpc":
            python = os.path.join(VENVS, "otel", "bin", "python")
            sender = subprocess.Popen([python, "-c", GRPC_SENDER, str(grpc_port), bodies_path, str(args.connections)],
                                      stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            time.sleep(max(2.0, size / 200e6))  # let it load the bodies
            cpu_before = proc_cpu_seconds(server.pid)
            wall_before = time.monotonic()
            out, err = sender.communicate("go\n", timeout=3600)
        else:
            argv = [os.path.join(HERE, "loadgen"), str(http_port if mode == "otlp-http" else server.port),
                    "/v1/metrics" if mode == "otlp-http" else "/api/v1/write", bodies_path, str(args.connections),
                    "otlp" if mode == "otlp-http" else "remote-write"]
            cpu_before = proc_cpu_seconds(server.pid)
            wall_before = time.monotonic()
            done = subprocess.run(argv, capture_output=True, text=True, timeout=3600)
            out, err = done.stdout, done.stderr
        wall = time.monotonic() - wall_before
        cpu = proc_cpu_seconds(server.pid) - cpu_before
        result = json.loads(out.strip().splitlines()[-1])
        if result["failures"]:
            log("%s: %d failed requests: %s %s" % (mode, result["failures"], result.get("errors"), err[:1000]))
        # Every sample stored? Count them over the whole range.
        end_s = workload.timestamp_ms(args.rounds - 1) / 1000
        query = 'sum(count_over_time({__name__=~"bench_metric_.*"}[%ds]))' % (args.rounds * 15 + 60)
        answer = http_json(server.url + "/api/v1/query?" + urllib.parse.urlencode({"query": query, "time": "%.3f" % end_s}))
        stored = int(float(answer["data"]["result"][0]["value"][1])) if answer["data"]["result"] else 0
    return {"mode": mode, "requests": requests, "points": points, "body_bytes": size, "failures": result["failures"],
            "wall_s": wall, "cpu_s": cpu, "stored": stored}


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--resources", type=int, default=10)
    parser.add_argument("--metrics", type=int, default=20)
    parser.add_argument("--combos", type=int, default=100)
    parser.add_argument("--rounds", type=int, default=200)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--connections", type=int, default=2)
    parser.add_argument("--osprey", default=None, help="osprey binary (default .build/release/osprey)")
    parser.add_argument("--modes", default=",".join(MODES))
    args = parser.parse_args()
    subprocess.run(["cc", "-O2", "-pthread", "-o", os.path.join(HERE, "loadgen"), os.path.join(HERE, "loadgen.c")], check=True)
    workload = Workload(args)
    runs = {mode: [] for mode in args.modes.split(",")}
    with tempfile.TemporaryDirectory(prefix="osprey-otlp-bench-") as workdir:
        for attempt in range(args.repeat):
            for mode in runs:
                r = run_mode(mode, workload, args, workdir, attempt)
                runs[mode].append(r)
                log("%s #%d: %d points in %.2f s, server %.2f CPU-s (%.3f µs/point), stored %d" % (
                    mode, attempt + 1, r["points"], r["wall_s"], r["cpu_s"], r["cpu_s"] / r["points"] * 1e6, r["stored"]))
    results = {}
    for mode, attempts in runs.items():
        results[mode] = dict(attempts[0])
        for key in ("wall_s", "cpu_s"):
            results[mode][key] = statistics.median(a[key] for a in attempts)
        results[mode]["stored"] = min(a["stored"] for a in attempts)
        results[mode]["failures"] = max(a["failures"] for a in attempts)
        results[mode]["cpu_spread"] = (min(a["cpu_s"] for a in attempts), max(a["cpu_s"] for a in attempts))
    series = args.resources * args.metrics * args.combos
    print("\nOTLP vs remote-write ingest: %d series x %d rounds = %d points, %d points per request, %d connections, %d cores;"
          " medians of %d interleaved runs" % (series, args.rounds, series * args.rounds, workload.points_per_request,
                                               args.connections, os.cpu_count(), args.repeat))
    print()
    print("| transport | points stored | failed requests | body MiB | wall s | points/s | server CPU-s (min-max) | server CPU µs/point | CPU vs remote write |")
    print("|---|---|---|---|---|---|---|---|---|")
    base = results.get("remote-write")
    for mode, r in results.items():
        per_point = r["cpu_s"] / r["points"] * 1e6
        ratio = "%.2fx" % (per_point / (base["cpu_s"] / base["points"] * 1e6)) if base else "-"
        print("| %s | %d / %d | %d | %.1f | %.2f | %.0f | %.2f (%.2f-%.2f) | %.3f | %s |" % (
            mode, r["stored"], r["points"], r["failures"], r["body_bytes"] / 2**20, r["wall_s"], r["points"] / r["wall_s"],
            r["cpu_s"], r["cpu_spread"][0], r["cpu_spread"][1], per_point, ratio))
    print()
    if base:
        for mode in ("otlp-http", "otlp-grpc"):
            if mode in results:
                r = results[mode]
                ratio = (r["cpu_s"] / r["points"]) / (base["cpu_s"] / base["points"])
                print("target: %s server CPU per point <= 1.5x remote write's: %.2fx %s" % (mode, ratio, "met" if ratio <= 1.5 else "NOT met"))
    if "otlp-http" in results:
        rate = results["otlp-http"]["points"] / results["otlp-http"]["wall_s"]
        print("target: OTLP HTTP/protobuf >= 500k points/s: %.0f %s" % (rate, "met" if rate >= 500_000 else "NOT met"))


if __name__ == "__main__":
    main()
