#!/usr/bin/env python3
"""Side-by-side long-term storage benchmark: Osprey vs Prometheus 2.42 vs VictoriaMetrics 1.79.

For each server in turn (one at a time, on 127.0.0.1, each with an empty data directory):

1. Ingest. `--hours` of history at `--interval` seconds for `--series` node-exporter-like series
   (run.py's `node_series` label sets; per series one value shape: CPU-seconds counters with
   2 decimals, byte counters, millisecond counters, constant-increment counters, gauges as random
   walks with 2 decimals, byte gauges moving in 4 KiB steps, constant series) is sent by
   bench/compare/historygen (compiled from historygen.c at run time) as Prometheus remote write,
   oldest first: all series for t0, then t1, ...; `--batch` samples per request over
   `--connections` keep-alive connections that finish each timestamp round together (a barrier),
   so no server sees a sample more than one round behind its newest. The first timestamp is
   now - `--hours` (the same samples for every server); timestamps sit exactly on the interval
   unless `--jitter-ms` is given.
2. Settle. Osprey and Prometheus: wait until their blocks reach the last timestamp - 3 h (the
   head has been cut down to at most 1.5 block ranges and its older samples are in 2 h blocks,
   compacted to 6 h and 18 h), then until the process is idle. VictoriaMetrics:
   /internal/force_flush, /internal/force_merge, then idle.
3. Disk: the blocks (ULID directories: chunks/, index, meta.json, tombstones), their bytes per
   sample over the `stats.numSamples` of their meta.json, and the whole data directory's bytes
   per ingested sample (VictoriaMetrics has no blocks: only the latter).
4. Memory: VmRSS (and its anonymous part, RssAnon) per series once settled; again after a clean
   restart and after a restart following SIGKILL (the steady state a long-running server
   returns to).
5. Restart: SIGTERM and wait for exit (the stop time is reported), start, time until /-/ready
   (VictoriaMetrics: /health) answers 200; then SIGKILL and the same again.
6. Queries over the whole history (range queries, step `--step`, the steps half an interval off
   the sample grid so that no sample sits on a range window's boundary, which Prometheus 2.42
   includes and Prometheus 3 and Osprey exclude): the first run right after the SIGKILL restart
   (with the page cache dropped when this user may write /proc/sys/vm/drop_caches), then
   `--runs` warm runs (median reported). Result series and values are compared with
   Prometheus' (VictoriaMetrics' rate() differs by design: no extrapolation).
7. Verification, per metric name (large ones in ten parts by instance, so that no query nears
   the default --query.max-samples): `count(count_over_time(m[W]))` and
   `sum(count_over_time(m[W]))` must add up to --series and --series x steps: every sample is
   stored, also after the SIGKILL. The largest metric is also counted in one query, and whether
   each server answers it is reported.

Prints the sizes used, the wall time of every phase, a Markdown table with the three servers
and the Osprey/peer ratios, and the targets (Osprey's bytes per block sample <= Prometheus';
Osprey's RSS per series <= 0.5x Prometheus'). `--json FILE` writes every number.

Usage: bench/compare/storage.py [--series 100000] [--hours 24] [--interval 60] [--jitter-ms 0]
           [--connections 3] [--batch 2000] [--runs 5] [--step 60]
           [--only osprey,prometheus,victoria-metrics] [--osprey-bin .build/release/osprey]
           [--json FILE] [--keep] [--hold-after-settle SECONDS]
Needs: scripts/install-bench-deps.sh (Debian prometheus, victoria-metrics; cc; cramjam), and a
release build of Osprey (`swift build -c release`) unless --only leaves it out. At the defaults
(100k series x 1440 samples) the three servers take about half an hour on 2 cores.
"""
import argparse
import json
import os
import shutil
import signal
import statistics
import struct
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from common import DEFAULT_OSPREY, Server, parse_only, proc_cpu_seconds, proc_status_kib, wait_idle, write_prometheus_config  # noqa: E402
from query import Client, agreement_text, compare, normalize  # noqa: E402
from run import node_series  # noqa: E402

sys.path.insert(0, os.path.join(HERE, "..", "..", "Tests", "InteropTests"))
import prompb  # noqa: E402

ORDER = ("osprey", "prometheus", "victoriametrics")
DATA_DIRS = {"osprey": "osprey", "prometheus": "prometheus", "victoriametrics": "vm"}
EXTRA_FLAGS = {
    # No response cache and no hiding of the newest 30 s: VM answers every run from its storage.
    "victoriametrics": ["-search.disableCache", "-search.latencyOffset=0s", "-search.maxQueryDuration=600s"],
}
HOUR_MS = 3600 * 1000

# name, expression (range queries over the whole history at --step)
QUERIES = [
    ("cpu_rate_by_mode", 'sum by (mode) (rate(node_cpu_seconds_total{cpu=~"[0-3]"}[5m]))'),
    ("gauge_max_1h", "max_over_time(node_gauge_1[1h])"),
    ("count_by_name_regex", 'count({__name__=~"node_(network|disk|filesystem)_.+"})'),
    ("fs_avail_min_by_mount", "min by (mountpoint) (node_filesystem_avail_bytes)"),
]


def log(message):
    print("[%s] %s" % (time.strftime("%H:%M:%S"), message), file=sys.stderr, flush=True)


# --- workload -----------------------------------------------------------------------------

def series_shape(labels):
    """(kind, param, initial) for historygen.c: see its header for the kinds."""
    name = labels["__name__"]
    instance = int(labels["instance"][5:10])
    if name == "node_cpu_seconds_total":
        mode = labels["mode"]
        if mode in ("steal", "irq"):
            return 0, 0.0, 0.0
        share = {"idle": 0.85, "user": 0.08, "system": 0.04, "iowait": 0.01, "nice": 0.002, "softirq": 0.005}[mode]
        return 2, share, round(1e6 * share + instance, 2)
    if name == "node_network_receive_bytes_total":
        if labels["device"] == "eth3":
            return 0, 0.0, 0.0  # a down interface
        return 3, 2000.0 * (1 + int(labels["device"][3:])), 1e9 + instance * 4096
    if name == "node_filesystem_avail_bytes":
        if labels["mountpoint"] == "/boot":
            return 0, 0.0, 512 * 1024 * 1024.0
        return 5, 50.0, 40e9 - (instance % 97) * 1e8 // 4096 * 4096
    if name == "node_disk_io_time_seconds_total":
        return 6, 0.02, 1000.0 + instance
    i = int(name.rsplit("_", 1)[1])
    if i % 10 == 0:
        return 0, 0.0, float(i)
    if i % 10 == 1:
        return 1, 1.0, 1e5 + instance  # e.g. a seconds-since-boot style counter
    return 4, 0.5 * (1 + i % 4), 100.0 + i


def write_series_file(path, count):
    """Writes historygen's series file; returns {metric name: series count}."""
    names = {}
    with open(path, "wb") as f:
        for labels in node_series(count):
            names[labels["__name__"]] = names.get(labels["__name__"], 0) + 1
            kind, param, initial = series_shape(labels)
            encoded = b"".join(prompb._bytes(1, prompb.label(k, v)) for k, v in sorted(labels.items()))
            f.write(struct.pack("<Bddi", kind, param, initial, len(encoded)))
            f.write(encoded)
    return names


# --- disk ---------------------------------------------------------------------------------

def tree_bytes(path):
    total = 0
    for root, _, files in os.walk(path):
        for name in files:
            try:
                total += os.lstat(os.path.join(root, name)).st_size
            except FileNotFoundError:
                pass
    return total


def path_bytes(path):
    return tree_bytes(path) if os.path.isdir(path) else os.lstat(path).st_size


def is_ulid(name):
    return len(name) == 26 and name.isalnum() and name.upper() == name


def blocks(data_dir):
    """[(ulid, meta, bytes)] of the complete block directories."""
    out = []
    for name in sorted(os.listdir(data_dir)) if os.path.isdir(data_dir) else []:
        meta_path = os.path.join(data_dir, name, "meta.json")
        if is_ulid(name) and os.path.exists(meta_path):
            try:
                meta = json.load(open(meta_path))
            except (OSError, ValueError):
                continue
            out.append((name, meta, tree_bytes(os.path.join(data_dir, name))))
    return out


def disk_stats(name, data_dir):
    stats = {"dir_bytes": tree_bytes(data_dir)}
    if name != "victoriametrics":
        bs = blocks(data_dir)
        stats["blocks"] = len(bs)
        stats["block_bytes"] = sum(b for _, _, b in bs)
        stats["block_samples"] = sum(m.get("stats", {}).get("numSamples", 0) for _, m, _ in bs)
        stats["block_series_max"] = max([m.get("stats", {}).get("numSeries", 0) for _, m, _ in bs] or [0])
        stats["block_ranges_h"] = [(m["maxTime"] - m["minTime"]) / HOUR_MS for _, m, _ in bs]
        stats["block_max_time"] = max([m["maxTime"] for _, m, _ in bs] or [0])
        ordered = sorted((m["minTime"], m["maxTime"]) for _, m, _ in bs)
        stats["overlapping_blocks"] = sum(1 for a, b in zip(ordered, ordered[1:]) if b[0] < a[1])
        parts = {}
        for ulid, _, _ in bs:
            for entry in os.listdir(os.path.join(data_dir, ulid)):
                parts[entry] = parts.get(entry, 0) + path_bytes(os.path.join(data_dir, ulid, entry))
        stats["block_parts"] = parts
        stats["non_block_bytes"] = {entry: path_bytes(os.path.join(data_dir, entry)) for entry in os.listdir(data_dir) if not is_ulid(entry)}
    return stats


# --- server control -----------------------------------------------------------------------

def start(name, workdir, options, label):
    """Starts a server (a new port each time, the same data directory); returns (server, seconds
    from exec to the first 200 of the readiness endpoint)."""
    server = Server(name, workdir, options.osprey_bin, EXTRA_FLAGS)
    server.log_path = os.path.join(workdir, "%s-%s.log" % (name, label))
    log_file = open(server.log_path, "wb")
    began = time.time()
    server.process = subprocess.Popen(server.argv, stdout=log_file, stderr=subprocess.STDOUT)
    log_file.close()
    deadline = began + options.start_timeout
    while True:
        if server.process.poll() is not None:
            raise RuntimeError("%s exited with %s while starting; see %s" % (name, server.process.returncode, server.log_path))
        try:
            with urllib.request.urlopen(server.url + server.ready_path, timeout=2) as r:
                if r.status == 200:
                    return server, time.time() - began
        except Exception:
            pass
        if time.time() > deadline:
            server.stop()
            raise RuntimeError("%s not ready after %d s" % (name, options.start_timeout))
        time.sleep(0.05)


def stop_clean(server, timeout=600):
    began = time.time()
    server.process.send_signal(signal.SIGTERM)
    try:
        server.process.wait(timeout)
    except subprocess.TimeoutExpired:
        server.stop()
        return None, "did not exit within %d s of SIGTERM (killed)" % timeout
    return time.time() - began, server.process.returncode


def rss(pid):
    return {"rss_kib": proc_status_kib(pid, "VmRSS"), "anon_kib": proc_status_kib(pid, "RssAnon"),
            "file_kib": proc_status_kib(pid, "RssFile")}


def drop_page_cache():
    os.sync()
    try:
        with open("/proc/sys/vm/drop_caches", "w") as f:
            f.write("3\n")
        return True
    except OSError:
        return False


def instant(client, expr, time_s):
    status, body, _ = client.get("/api/v1/query", {"query": expr, "time": str(time_s)})
    if status != 200:
        raise RuntimeError("HTTP %d for %s: %s" % (status, expr, body[:300].decode(errors="replace")))
    result = json.loads(body)["data"]["result"]
    return float(result[0]["value"][1]) if result else None


def vm_metric(url, name):
    with urllib.request.urlopen(url + "/metrics", timeout=30) as r:
        for line in r.read().decode().splitlines():
            if line.startswith(name + " ") or line.startswith(name + "{"):
                return float(line.rsplit(" ", 1)[1])
    return None


# --- one server ---------------------------------------------------------------------------

def settle(name, server, data_dir, last_ms, options, out):
    """Waits until blocks reach last - 3h (Osprey, Prometheus) or VM has flushed and merged,
    then until the process is idle."""
    began = time.time()
    if name == "victoriametrics":
        urllib.request.urlopen(server.url + "/internal/force_flush", timeout=120).read()
        try:
            urllib.request.urlopen(server.url + "/internal/force_merge", timeout=120).read()
            time.sleep(1)
            while (vm_metric(server.url, "vm_active_force_merges") or 0) > 0 and time.time() - began < options.settle_timeout:
                time.sleep(1)
            out["force_merge"] = True
        except Exception as error:
            out["force_merge"] = "failed: %s" % error
    else:
        target = last_ms - 3 * HOUR_MS
        while True:
            bs = blocks(data_dir)
            if bs and max(m["maxTime"] for _, m, _ in bs) >= target:
                break
            if time.time() - began > options.settle_timeout:
                out["settle_problem"] = "blocks reach %s, not last - 3h after %d s" % (
                    max([m["maxTime"] for _, m, _ in bs] or [0]) - last_ms, options.settle_timeout)
                log("%s: %s" % (name, out["settle_problem"]))
                break
            time.sleep(1)
        out["blocks_wait_seconds"] = time.time() - began
    wait_idle(server.pid, quiet_seconds=5, timeout=max(30, options.settle_timeout - (time.time() - began)))
    return time.time() - began


def time_queries(server, options, window, out):
    client = Client(server.port, options.query_timeout)
    results = {}
    for qname, expr in QUERIES:
        params = {"query": expr, "start": str(window[0]), "end": str(window[1]), "step": str(options.step)}
        record = {}
        latencies = []
        for run in range(options.runs + 1):
            try:
                status, body, seconds = client.get("/api/v1/query_range", params)
            except Exception as error:
                client.close()
                record["error"] = "%s: %s" % (type(error).__name__, error)
                break
            if status != 200:
                record["error"] = "HTTP %d: %s" % (status, body[:300].decode(errors="replace"))
                break
            if run == 0:
                record["cold_ms"] = seconds * 1000
                record["result"] = normalize(body, "range", params)
                record["series"] = len(record["result"])
                record["points"] = sum(len(s) for s in record["result"].values())
            else:
                latencies.append(seconds)
        if latencies:
            record["warm_median_ms"] = statistics.median(latencies) * 1000
            record["warm_runs"] = len(latencies)
        results[qname] = record
        log("%s: %s cold %s ms, warm median %s ms, %s series%s" % (
            server.name, qname, fmt(record.get("cold_ms")), fmt(record.get("warm_median_ms")), record.get("series"),
            (" ERROR " + record["error"]) if "error" in record else ""))
    client.close()
    out["queries"] = results


SPLIT_SAMPLES = 10_000_000


def verify(server, options, end_s, names, steps, expected_samples, out):
    """Per metric name (Prometheus 2.42 refuses count_over_time over several names whose series
    differ only by name): count(count_over_time(m[W])) and sum(count_over_time(m[W])); names
    with over SPLIT_SAMPLES samples are counted in ten parts by the instance's last digit, which
    keeps every query far below the default --query.max-samples (50M) however a server counts.
    Also runs the largest name's count unsplit once and records whether the server answers it."""
    client = Client(server.port, options.query_timeout)
    window = "%dh" % (options.hours + 2)
    check = {"series": 0, "samples": 0, "problems": []}
    largest = max(names, key=names.get)
    began = time.time()
    try:
        check["unsplit_largest"] = {"query": "sum(count_over_time(%s[%s]))" % (largest, window), "expected": names[largest] * steps,
                                    "got": instant(client, "sum(count_over_time(%s[%s]))" % (largest, window), end_s)}
    except Exception as error:
        client.close()
        check["unsplit_largest"] = {"query": "sum(count_over_time(%s[%s]))" % (largest, window), "expected": names[largest] * steps,
                                    "error": str(error)}
    check["unsplit_largest"]["seconds"] = time.time() - began
    for name, expected_series in sorted(names.items()):
        selectors = [name] if expected_series * steps <= SPLIT_SAMPLES else [
            '%s{instance=~"host-[0-9]*%d:9100"}' % (name, digit) for digit in range(10)]
        series = samples = 0
        for selector in selectors:
            try:
                series += int(instant(client, "count(count_over_time(%s[%s]))" % (selector, window), end_s) or 0)
                samples += int(instant(client, "sum(count_over_time(%s[%s]))" % (selector, window), end_s) or 0)
            except Exception as error:
                client.close()
                check["problems"].append("%s: %s" % (selector, error))
        check["series"] += series
        check["samples"] += samples
        if series != expected_series or samples != expected_series * steps:
            check["problems"].append("%s: %s series, %s samples" % (name, series, samples))
    client.close()
    check["ok"] = not check["problems"] and check["series"] == options.series and check["samples"] == expected_samples
    if check["problems"]:
        check["error"] = "; ".join(check["problems"][:5])
    out["verify"] = check


def run_server(name, options, workdir, series_file, names, start_ms, steps, expected_samples, window):
    out = {"server": name, "phases": {}}
    data_dir = os.path.join(workdir, DATA_DIRS[name])
    phases = out["phases"]
    last_ms = start_ms + (steps - 1) * options.interval * 1000
    os.sync()
    time.sleep(1)
    server, out["first_start_seconds"] = start(name, workdir, options, "ingest")
    try:
        log("%s: ingesting %d series x %d steps = %d samples" % (name, options.series, steps, expected_samples))
        cpu_before = proc_cpu_seconds(server.pid)
        began = time.time()
        argv = [os.path.join(HERE, "historygen"), str(server.port), "/api/v1/write", series_file, str(start_ms),
                str(options.interval * 1000), str(steps), str(options.connections), str(options.batch)]
        if options.jitter_ms:
            argv.append(str(options.jitter_ms))
        generator = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        phases["ingest"] = time.time() - began
        out["ingest_cpu_seconds"] = proc_cpu_seconds(server.pid) - cpu_before
        out["samples_per_second"] = expected_samples / phases["ingest"]
        try:
            out["generator"] = json.loads(generator.stdout)
        except ValueError:
            out["generator"] = {"failures": -1}
        errors = [line for line in generator.stderr.splitlines() if not line.startswith("historygen: ") or "status" in line]
        if generator.returncode != 0 or errors:
            out["generator_errors"] = errors[:10] + [generator.stdout.strip()]
            log("%s: historygen exit %d: %s" % (name, generator.returncode, " | ".join(out["generator_errors"])[:2000]))
        out["peak_rss_kib_ingest"] = proc_status_kib(server.pid, "VmHWM")
        log("%s: ingest %.1f s (%.0f samples/s, %.1f server CPU-s), peak RSS %.0f MiB; settling" % (
            name, phases["ingest"], out["samples_per_second"], out["ingest_cpu_seconds"], out["peak_rss_kib_ingest"] / 1024))

        phases["settle"] = settle(name, server, data_dir, last_ms, options, out)
        out["rss_settled"] = rss(server.pid)
        if options.hold_after_settle > 0:
            log("%s: holding pid %d for %d s to be inspected" % (name, server.pid, options.hold_after_settle))
            time.sleep(options.hold_after_settle)
        out["disk"] = disk_stats(name, data_dir)
        log("%s: settled in %.1f s; RSS %.0f MiB; data dir %.1f MiB%s" % (
            name, phases["settle"], out["rss_settled"]["rss_kib"] / 1024, out["disk"]["dir_bytes"] / 2**20,
            ", %d blocks (%s h) %.1f MiB, %.3f B/sample" % (out["disk"]["blocks"], "+".join("%g" % r for r in out["disk"]["block_ranges_h"]),
                                                        out["disk"]["block_bytes"] / 2**20, out["disk"]["block_bytes"] / max(1, out["disk"]["block_samples"]))
            if "blocks" in out["disk"] else ""))

        began = time.time()
        out["stop_seconds"], out["stop_status"] = stop_clean(server)
        phases["clean_stop"] = time.time() - began
        server, out["restart_clean_seconds"] = start(name, workdir, options, "restart-clean")
        phases["restart_clean"] = out["restart_clean_seconds"]
        began = time.time()
        wait_idle(server.pid, quiet_seconds=5, timeout=120)
        out["rss_after_clean_restart"] = rss(server.pid)
        phases["idle_after_clean_restart"] = time.time() - began
        log("%s: stop %.1f s (exit %s), restart %.2f s, RSS after it %.0f MiB" % (
            name, out["stop_seconds"] or -1, out["stop_status"], out["restart_clean_seconds"], out["rss_after_clean_restart"]["rss_kib"] / 1024))

        server.stop()  # SIGKILL
        server, out["restart_kill_seconds"] = start(name, workdir, options, "restart-kill")
        phases["restart_kill"] = out["restart_kill_seconds"]
        began = time.time()
        wait_idle(server.pid, quiet_seconds=5, timeout=120)
        out["rss_after_kill_restart"] = rss(server.pid)
        phases["idle_after_kill_restart"] = time.time() - began
        log("%s: restart after SIGKILL %.2f s, RSS after it %.0f MiB" % (
            name, out["restart_kill_seconds"], out["rss_after_kill_restart"]["rss_kib"] / 1024))

        out["page_cache_dropped"] = drop_page_cache()
        began = time.time()
        time_queries(server, options, window, out)
        phases["queries"] = time.time() - began
        out["rss_after_queries"] = rss(server.pid)

        began = time.time()
        verify(server, options, last_ms // 1000 + options.interval, names, steps, expected_samples, out)
        phases["verify"] = time.time() - began
        log("%s: stored %s series, %s samples (expected %d, %d): %s" % (
            name, out["verify"].get("series"), out["verify"].get("samples"), options.series, expected_samples,
            "ok" if out["verify"]["ok"] else "MISMATCH " + out["verify"].get("error", "")))
    finally:
        server.stop()
    return out


# --- report -------------------------------------------------------------------------------

def fmt(value, digits=1):
    if value is None:
        return "-"
    if isinstance(value, str):
        return value
    return "%.*f" % (digits, value)


def mib(kib):
    return kib / 1024


def versions(options):
    def first_line(argv):
        try:
            return subprocess.run(argv, capture_output=True, text=True, timeout=30).stdout.strip().splitlines()[0]
        except Exception:
            return "?"
    commit = first_line(["git", "-C", HERE, "log", "-1", "--format=%h"])
    packages = first_line(["dpkg-query", "-W", "-f", "${Package} ${Version}; ", "prometheus", "victoria-metrics"])
    return "osprey %s (source commit %s); Debian %s" % (options.osprey_bin, commit, packages.rstrip("; "))


def print_report(results, options, steps, expected_samples, start_ms, window, wall):
    by = {r["server"]: r for r in results}
    systems = [s for s in ORDER if s in by]
    print("\nLong-term storage: %d series x %d samples (%g h at %d s%s, from %s) = %d samples; "
          "remote write, %d samples/request, %d connections; queries %s..%s step %d s, %d warm runs" % (
              options.series, steps, options.hours, options.interval,
              ", +-%d ms jitter" % options.jitter_ms if options.jitter_ms else ", on the interval",
              time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(start_ms / 1000)), expected_samples,
              options.batch, options.connections, time.strftime("%H:%M", time.localtime(window[0])),
              time.strftime("%H:%M", time.localtime(window[1])), options.step, options.runs))
    print("Versions: %s" % versions(options))
    print("Page cache before the cold query runs: %s" % ", ".join(
        "%s %s" % (s, "dropped" if by[s].get("page_cache_dropped") else "NOT dropped (no permission)") for s in systems))
    ratios = [p for p in ("prometheus", "victoriametrics") if "osprey" in by and p in by]
    header = ["metric"] + systems + ["osprey/" + ("prom" if p == "prometheus" else "vm") for p in ratios]
    rows = []

    def row(label, getter, digits=1, ratio=True):
        values = {}
        for s in systems:
            try:
                values[s] = getter(by[s])
            except (KeyError, TypeError, ZeroDivisionError):
                values[s] = None
        cells = [label] + [fmt(values[s], digits) for s in systems]
        for p in ratios:
            o, v = values.get("osprey"), values.get(p)
            cells.append("%.2fx" % (o / v) if ratio and isinstance(o, (int, float)) and isinstance(v, (int, float)) and v else "-")
        rows.append(cells)

    row("stored series / samples (verified)", lambda r: "%s %d / %d" % (
        "ok" if r["verify"]["ok"] else "MISMATCH", r["verify"].get("series") or -1, r["verify"].get("samples") or -1), ratio=False)
    row("unsplit sum(count_over_time(largest metric)) (%s)" % (
        by[systems[0]]["verify"].get("unsplit_largest", {}).get("query", "?") if systems else "?"),
        lambda r: ("%d, %.1f s" % (r["verify"]["unsplit_largest"]["got"], r["verify"]["unsplit_largest"]["seconds"])
                   if "got" in r["verify"]["unsplit_largest"] else "ERROR: " + r["verify"]["unsplit_largest"]["error"][-80:]), ratio=False)
    row("failed write requests", lambda r: "%d of %d" % (r["generator"]["failures"], r["generator"]["requests"]), ratio=False)
    row("ingest, samples/s", lambda r: r["samples_per_second"], 0)
    row("ingest, server CPU-s", lambda r: r["ingest_cpu_seconds"])
    row("peak RSS during ingest, MiB", lambda r: mib(r["peak_rss_kib_ingest"]), 0)
    row("blocks (ranges, h)", lambda r: "%d (%s)" % (r["disk"]["blocks"], "+".join("%.3g" % x for x in r["disk"]["block_ranges_h"])), ratio=False)
    row("block samples", lambda r: r["disk"]["block_samples"], 0)
    row("block bytes, MiB", lambda r: r["disk"]["block_bytes"] / 2**20)
    row("**block bytes per sample**", lambda r: r["disk"]["block_bytes"] / r["disk"]["block_samples"], 3)
    row("  of which chunks/ per sample", lambda r: r["disk"]["block_parts"]["chunks"] / r["disk"]["block_samples"], 3)
    row("  of which index, MiB", lambda r: r["disk"]["block_parts"]["index"] / 2**20)
    row("data dir total, MiB", lambda r: r["disk"]["dir_bytes"] / 2**20)
    row("data dir bytes per ingested sample", lambda r: r["disk"]["dir_bytes"] / expected_samples, 3)
    row("RSS after head truncation, MiB", lambda r: mib(r["rss_settled"]["rss_kib"]), 0)
    row("**RSS per series after head truncation, KiB**", lambda r: r["rss_settled"]["rss_kib"] / options.series, 2)
    row("  anonymous part, KiB/series", lambda r: r["rss_settled"]["anon_kib"] / options.series, 2)
    row("  file-backed part (mapped files), KiB/series", lambda r: r["rss_settled"]["file_kib"] / options.series, 2)
    row("RSS after clean restart, MiB", lambda r: mib(r["rss_after_clean_restart"]["rss_kib"]), 0)
    row("**RSS per series after clean restart, KiB**", lambda r: r["rss_after_clean_restart"]["rss_kib"] / options.series, 2)
    row("  anonymous part, KiB/series ", lambda r: r["rss_after_clean_restart"]["anon_kib"] / options.series, 2)
    row("RSS after SIGKILL restart, MiB", lambda r: mib(r["rss_after_kill_restart"]["rss_kib"]), 0)
    row("RSS after the queries, MiB", lambda r: mib(r["rss_after_queries"]["rss_kib"]), 0)
    row("clean stop (SIGTERM to exit), s", lambda r: r["stop_seconds"], 2)
    row("**restart after clean stop, s**", lambda r: r["restart_clean_seconds"], 2)
    row("**restart after SIGKILL, s**", lambda r: r["restart_kill_seconds"], 2)
    for qname, _ in QUERIES:
        row("%s: cold, ms" % qname, lambda r, q=qname: r["queries"][q].get("cold_ms") if "error" not in r["queries"][q] else "error", 1)
        row("%s: warm median, ms" % qname, lambda r, q=qname: r["queries"][q].get("warm_median_ms") if "error" not in r["queries"][q] else "error", 1)
    for qname, _ in QUERIES:
        row("%s: result series" % qname, lambda r, q=qname: "%d" % r["queries"][q]["series"], ratio=False)
    print()
    print("| " + " | ".join(header) + " |")
    print("|" + "---|" * len(header))
    for cells in rows:
        print("| " + " | ".join(cells) + " |")

    print()
    for qname, expr in QUERIES:
        print("%-22s %s" % (qname, expr))
    if "prometheus" in by:
        print("\nQuery results vs Prometheus (series matched by labels, values within 1e-6 relative, last step ignored):")
        for qname, _ in QUERIES:
            ref = by["prometheus"]["queries"].get(qname, {}).get("result")
            cells = []
            for s in systems:
                if s == "prometheus":
                    continue
                other = by[s]["queries"].get(qname, {}).get("result")
                cells.append("%s: %s" % (s, agreement_text(compare(ref, other)) if ref is not None and other is not None else "n/a"))
            print("  %-22s %s" % (qname, "; ".join(cells)))

    print("\nPhase wall times, s:")
    for s in systems:
        print("  %s: %s" % (s, ", ".join("%s %.1f" % (k, v) for k, v in by[s]["phases"].items())))
    for s in systems:
        d = by[s].get("disk", {})
        if "block_parts" in d:
            print("  %s block files, MiB: %s; outside blocks: %s%s" % (
                s, ", ".join("%s %.1f" % (k, v / 2**20) for k, v in sorted(d["block_parts"].items())),
                ", ".join("%s %.1f" % (k, v / 2**20) for k, v in sorted(d["non_block_bytes"].items())),
                "; %d OVERLAPPING blocks" % d["overlapping_blocks"] if d["overlapping_blocks"] else ""))
        for key in ("settle_problem", "generator_errors"):
            if key in by[s]:
                print("  %s: %s: %s" % (s, key, by[s][key]))
    if "osprey" in by and "prometheus" in by:
        o, p = by["osprey"], by["prometheus"]
        print("\nTargets:")
        try:
            r = (o["disk"]["block_bytes"] / o["disk"]["block_samples"]) / (p["disk"]["block_bytes"] / p["disk"]["block_samples"])
            print("  block bytes per sample, osprey/prometheus = %.3f (target <= 1): %s" % (r, "met" if r <= 1 else "NOT MET"))
        except (KeyError, ZeroDivisionError):
            pass
        for key, label in (("rss_settled", "after head truncation"), ("rss_after_clean_restart", "after clean restart")):
            try:
                r = o[key]["rss_kib"] / p[key]["rss_kib"]
                print("  RSS per series %s, osprey/prometheus = %.3f (target <= 0.5): %s" % (label, r, "met" if r <= 0.5 else "NOT MET"))
            except (KeyError, ZeroDivisionError):
                pass
    print("\ntotal wall time %.0f s" % wall)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--series", type=int, default=100_000)
    parser.add_argument("--hours", type=float, default=24, help="history length, ending about now")
    parser.add_argument("--interval", type=int, default=60, help="seconds between samples of a series")
    parser.add_argument("--jitter-ms", type=int, default=0, help="timestamps off the interval by up to +-this many ms")
    parser.add_argument("--connections", type=int, default=3)
    parser.add_argument("--batch", type=int, default=2000, help="samples (series) per remote-write request")
    parser.add_argument("--runs", type=int, default=5, help="warm runs per query after the cold one")
    parser.add_argument("--step", type=int, default=60, help="range query step, s")
    parser.add_argument("--settle-timeout", type=int, default=420, help="longest wait for blocks / merges after the ingest, s")
    parser.add_argument("--start-timeout", type=int, default=600)
    parser.add_argument("--query-timeout", type=float, default=300)
    parser.add_argument("--only", action="append", help="comma-separated subset of osprey,prometheus,victoria-metrics")
    parser.add_argument("--osprey-bin", default=DEFAULT_OSPREY)
    parser.add_argument("--json", metavar="FILE", help="write every number to FILE")
    parser.add_argument("--hold-after-settle", type=int, default=0, metavar="SECONDS",
                        help="keep each server running this long once settled, to inspect it (profilers, /proc)")
    parser.add_argument("--keep", action="store_true", help="keep the work directory (data, logs)")
    options = parser.parse_args()
    only = parse_only(options.only)
    systems = [s for s in ORDER if not only or s in only]
    if "osprey" in systems and not os.path.exists(options.osprey_bin):
        parser.error("no Osprey binary at %s (build it, pass --osprey-bin, or --only prometheus,victoria-metrics)" % options.osprey_bin)
    if options.jitter_ms * 2 >= options.interval * 1000:
        parser.error("--jitter-ms must be under half the interval")

    started = time.time()
    subprocess.run(["cc", "-O2", "-pthread", "-o", os.path.join(HERE, "historygen"), os.path.join(HERE, "historygen.c"), "-lm"], check=True)
    workdir = tempfile.mkdtemp(prefix="osprey-storage-bench-")
    write_prometheus_config(workdir)
    series_file = os.path.join(workdir, "series.bin")
    names = write_series_file(series_file, options.series)
    steps = int(options.hours * 3600) // options.interval
    end_s = int(time.time()) // options.interval * options.interval
    start_s = end_s - steps * options.interval
    start_ms = start_s * 1000
    expected_samples = options.series * steps
    last_s = start_s + (steps - 1) * options.interval
    # Range query steps half an interval off the sample grid: no sample sits on the boundary of
    # a range selector's window, where Prometheus 2.42 (closed [t-r, t]) and Prometheus 3 /
    # Osprey (left-open (t-r, t]) would legitimately differ.
    offset = options.interval // 2 if options.step % options.interval == 0 else 0
    window = (start_s - start_s % options.step + options.step + offset, last_s - last_s % options.step - options.step + offset)
    log("workload: %d series x %d steps (%g h at %d s) = %d samples, first %s; generated in %.1f s" % (
        options.series, steps, options.hours, options.interval, expected_samples,
        time.strftime("%H:%M:%S", time.localtime(start_s)), time.time() - started))
    results = []
    try:
        for name in systems:
            try:
                results.append(run_server(name, options, workdir, series_file, names, start_ms, steps, expected_samples, window))
            except Exception as error:
                log("%s: FAILED: %s" % (name, error))
                raise
            finally:
                if not options.keep:
                    shutil.rmtree(os.path.join(workdir, DATA_DIRS[name]), ignore_errors=True)
    finally:
        if options.keep:
            log("work directory kept: %s" % workdir)
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    wall = time.time() - started
    print_report(results, options, steps, expected_samples, start_ms, window, wall)
    if options.json:
        with open(options.json, "w") as f:
            json.dump({"options": vars(options), "steps": steps, "start_ms": start_ms, "window": window, "wall_seconds": wall,
                       "results": [{k: v for k, v in r.items() if k != "queries"} | {"queries": {
                           q: {k: v for k, v in rec.items() if k != "result"} for q, rec in r.get("queries", {}).items()}}
                           for r in results]}, f, indent=1)


if __name__ == "__main__":
    main()
