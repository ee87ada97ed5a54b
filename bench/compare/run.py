#!/usr/bin/env python3
"""Side-by-side remote-write ingest benchmark: Osprey vs Prometheus 2.42 vs VictoriaMetrics 1.79.

The same pre-encoded workload (node-exporter-like series, one sample per series per 15 s
"scrape", 2000 samples per request) is sent by bench/compare/loadgen over keep-alive
connections to each server in turn, on this machine, in one run. Reports ingest samples/s,
server CPU-seconds per million samples, peak RSS and RSS per active series, checks that each
server stored every sample, and prints Osprey-to-peer ratios.

Usage: bench/compare/run.py [--series 100000] [--scrapes 20] [--connections 4] [--only osprey,prometheus]
       [--osprey-bin .build/release/osprey]
Needs: scripts/install-bench-deps.sh (Debian prometheus, victoria-metrics; cc; cramjam), and a
release build of Osprey (`swift build -c release`).
"""
import argparse
import json
import os
import shutil
import struct
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from common import DEFAULT_OSPREY, ROOT, Server, parse_only, proc_cpu_seconds, proc_status_kib, write_prometheus_config  # noqa: E402

sys.path.insert(0, os.path.join(ROOT, "Tests", "InteropTests"))
import prompb  # noqa: E402

SAMPLES_PER_REQUEST = 2000


def node_series(count):
    """Label sets shaped like node_exporter's: ~100 metrics x instances x small label sets."""
    families = [("node_cpu_seconds_total", [("cpu", [str(i) for i in range(8)]), ("mode", ["idle", "user", "system", "iowait", "irq", "nice", "softirq", "steal"])]),
                ("node_network_receive_bytes_total", [("device", ["eth%d" % i for i in range(4)])]),
                ("node_filesystem_avail_bytes", [("device", ["/dev/sda%d" % i for i in range(4)]), ("mountpoint", ["/", "/boot", "/var", "/home"]), ("fstype", ["ext4"])]),
                ("node_disk_io_time_seconds_total", [("device", ["sd%s" % c for c in "abcd"])])]
    per_instance = []
    for name, dims in families:
        combos = [[]]
        for label, values in dims:
            combos = [c + [(label, v)] for c in combos for v in values]
        per_instance += [[("__name__", name)] + c for c in combos]
    for i in range(60):
        per_instance.append([("__name__", "node_gauge_%d" % i)])
    out = []
    instance = 0
    while len(out) < count:
        for labels in per_instance:
            if len(out) == count:
                break
            out.append(dict(labels + [("instance", "host-%05d:9100" % instance), ("job", "node")]))
        instance += 1
    return out


def build_workload(path, series_count, scrapes):
    if os.path.exists(path):
        return
    series = node_series(series_count)
    base = (int(time.time()) - scrapes * 15 - 60) * 1000
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        for scrape in range(scrapes):
            t = base + scrape * 15_000
            for start in range(0, series_count, SAMPLES_PER_REQUEST):
                batch = [(labels, [(t, float(scrape * 7 + i % 13))]) for i, labels in enumerate(series[start:start + SAMPLES_PER_REQUEST])]
                body = prompb.snappy(prompb.write_request(batch))
                f.write(struct.pack("<II", len(body), start // SAMPLES_PER_REQUEST))
                f.write(body)
    os.rename(tmp, path)


def stored_samples(name, url, series_count, scrapes):
    """Counts stored samples: remote read for Osprey and Prometheus, /api/v1/export for VM."""
    end = int(time.time()) + 60
    if name == "victoriametrics":
        urllib.request.urlopen(url + "/internal/force_flush", timeout=60).read()
        time.sleep(2)
        query = urllib.parse.urlencode({"match[]": '{__name__=~"node_.*"}', "start": "0", "end": str(end)})
        total = 0
        with urllib.request.urlopen(url + "/api/v1/export?" + query, timeout=600) as r:
            for line in r:
                if line.strip():
                    total += len(json.loads(line)["values"])
        return total
    total = 0
    body = prompb.snappy(prompb.read_request(0, end * 1000, [(2, "__name__", "node_.*")]))
    req = urllib.request.Request(url + "/api/v1/read", data=body, headers={
        "Content-Encoding": "snappy", "Content-Type": "application/x-protobuf", "X-Prometheus-Remote-Read-Version": "0.1.0"})
    with urllib.request.urlopen(req, timeout=600) as r:
        for series in prompb.read_response(prompb.unsnappy(r.read()))[0].values():
            total += len(series)
    return total


def measure(name, workdir, workload, connections, series_count, scrapes, osprey_bin=None):
    os.sync()  # earlier servers' and the workload copy's dirty pages must not skew this run
    time.sleep(1)
    with Server(name, workdir, osprey_bin) as server:
        cpu_before = proc_cpu_seconds(server.pid)
        start = time.time()
        out = subprocess.run([os.path.join(HERE, "loadgen"), str(server.port), "/api/v1/write", workload, str(connections)],
                             capture_output=True, text=True)
        wall = time.time() - start
        cpu = proc_cpu_seconds(server.pid) - cpu_before
        if out.returncode != 0:
            print(out.stdout, out.stderr, file=sys.stderr)
        peak_kib = proc_status_kib(server.pid, "VmHWM")
        total = series_count * scrapes
        stored = stored_samples(name, server.url, series_count, scrapes)
        return {"server": name, "samples_per_s": total / wall, "cpu_s_per_million": cpu / (total / 1e6),
                "peak_rss_mib": peak_kib / 1024, "rss_kib_per_series": peak_kib / series_count,
                "stored": stored, "expected": total, "ok": stored == total and out.returncode == 0}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--series", type=int, default=100_000)
    parser.add_argument("--scrapes", type=int, default=20)
    parser.add_argument("--connections", type=int, default=4)
    parser.add_argument("--only", action="append", help="comma-separated: osprey,prometheus,victoria-metrics")
    parser.add_argument("--osprey-bin", default=DEFAULT_OSPREY)
    options = parser.parse_args()
    subprocess.run(["cc", "-O2", "-pthread", "-o", os.path.join(HERE, "loadgen"), os.path.join(HERE, "loadgen.c")], check=True)
    cache = os.path.join(tempfile.gettempdir(), "osprey-bench-%d-%d.bin" % (options.series, options.scrapes))
    build_workload(cache, options.series, options.scrapes)
    workdir = tempfile.mkdtemp(prefix="osprey-bench-")
    write_prometheus_config(workdir)
    shutil.copy(cache, os.path.join(workdir, "workload.bin"))
    results = []
    only = parse_only(options.only)
    for name in ("osprey", "prometheus", "victoriametrics"):
        if only and name not in only:
            continue
        results.append(measure(name, workdir, os.path.join(workdir, "workload.bin"), options.connections, options.series, options.scrapes, options.osprey_bin))
    print("\n%d series x %d scrapes = %d samples, %d connections" % (options.series, options.scrapes, options.series * options.scrapes, options.connections))
    print("| server | samples/s | CPU-s per 1M samples | peak RSS MiB | RSS KiB/series | all stored |")
    print("|---|---|---|---|---|---|")
    for r in results:
        print("| %s | %.0f | %.2f | %.0f | %.2f | %s (%d/%d) |" % (r["server"], r["samples_per_s"], r["cpu_s_per_million"], r["peak_rss_mib"], r["rss_kib_per_series"], "yes" if r["ok"] else "NO", r["stored"], r["expected"]))
    by = {r["server"]: r for r in results}
    if "osprey" in by:
        o = by["osprey"]
        for peer in ("prometheus", "victoriametrics"):
            if peer in by:
                p = by[peer]
                print("osprey/%s: throughput %.2fx, CPU per sample %.2fx, RSS per series %.2fx" % (
                    peer, o["samples_per_s"] / p["samples_per_s"], o["cpu_s_per_million"] / p["cpu_s_per_million"], o["rss_kib_per_series"] / p["rss_kib_per_series"]))
    shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
