#!/usr/bin/env python3
"""Side-by-side PromQL query latency benchmark: Osprey vs Prometheus 2.42 vs VictoriaMetrics 1.79.

What it does, for each server in turn (one at a time, on 127.0.0.1, each with an empty data
directory, stopped by PID afterwards):

1. Ingest. One deterministic dashboard data set (bench/compare/dashboard_data.py: ~200 series per
   host -- request counters, classic latency histograms, node-exporter CPU/memory/load/network/
   filesystem gauges and counters, `up`) with `--hours` + 1 h of history at `--interval`
   resolution, ending now, is encoded once into remote-write bodies and sent oldest first over one
   keep-alive connection by bench/compare/loadgen (so Prometheus' head never sees a sample older
   than its appendable window). VictoriaMetrics is then flushed (/internal/force_flush).
2. Check the ingest. Per metric name, `count(count_over_time(m[W]))`, `sum(count_over_time(m[W]))`
   and `sum(sum_over_time(m[W]))` (W covers all the data) must equal the series count, sample
   count and exact sum of the generated values (sum within 1e-9 relative).
3. Wait until the server is idle (compactions, merges), then run each query of QUERIES: 2 warm-up
   runs, then `--runs` timed runs, sequentially over one keep-alive HTTP connection, without
   Accept-Encoding (no gzip). Latency is client wall clock from sending the GET to reading the
   last byte of the JSON response (parsing excluded). Server CPU time over the timed runs is read
   from /proc. A query whose warm-up is slow gets fewer runs (at least 5) so that it takes about
   `--max-query-seconds`; the table says how many.

Range queries over "24h" span the last `--hours` and end at the data's end aligned to the step;
instant queries are evaluated at the data's end. Before timing, the first warm-up response of
every server is compared with the reference (Prometheus when it runs, else the first server):
same series (label sets) and values within 1e-6 relative, ignoring the last step of range queries.
Differences are reported, not fatal: VictoriaMetrics' MetricsQL deliberately computes rate() and
increase() without Prometheus' extrapolation, so its counter-based results are expected to
differ a little; Osprey is expected to agree with Prometheus.

Output: a plain-text (Markdown) table of median and p90 latency per query per server, the
Osprey/Prometheus and Osprey/VictoriaMetrics ratios of medians, and an agreement column, then
the geometric mean and a reference row outside it: `http_floor`, the constant query `1`, each
server's round trip without data (no sub-millisecond query can go far below it); with
`--json FILE` (or `--json` alone: JSON on stdout instead of the table) every number.

Usage: bench/compare/query.py [--only prometheus,victoria-metrics,osprey] [--series 3000]
           [--hours 24] [--interval 60] [--runs 20] [--osprey-bin .build/release/osprey]
           [--json [FILE]] [--keep]
Needs: scripts/install-bench-deps.sh (Debian prometheus, victoria-metrics; cc; cramjam), and a
release build of Osprey with the query API (`swift build -c release`) unless --only leaves it out.
At the defaults (3030 series x 1500 samples, 19 queries) Prometheus and VictoriaMetrics take
about 1.5 minutes together on 2 cores (data generation included); a slow server costs at most
about --max-query-seconds (15) plus two warm-ups per query, so three servers stay under ~10
minutes unless a query takes seconds.
"""
import argparse
import http.client
import json
import math
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from common import DEFAULT_OSPREY, Server, parse_only, proc_cpu_seconds, proc_status_kib, wait_idle, write_prometheus_config  # noqa: E402
from dashboard_data import Dataset  # noqa: E402

ORDER = ("prometheus", "victoriametrics", "osprey")
DAY = "day"  # a range query over the last --hours
RELATIVE_TOLERANCE = 1e-6

# name, expression, "range" with (span, step seconds) or "instant"
QUERIES = [
    ("rate_sum_by_job", 'sum by (job) (rate(http_requests_total[5m]))', "range", DAY, 60),
    ("p99_latency", 'histogram_quantile(0.99, sum by (le) (rate(http_request_duration_seconds_bucket[5m])))', "range", DAY, 60),
    ("p90_latency_by_handler", 'histogram_quantile(0.9, sum by (handler, le) (rate(http_request_duration_seconds_bucket{job="api"}[5m])))', "range", DAY, 60),
    ("avg_latency_by_handler", 'sum by (handler) (rate(http_request_duration_seconds_sum[5m])) / sum by (handler) (rate(http_request_duration_seconds_count[5m]))', "range", DAY, 60),
    ("topk_handlers", 'topk(5, sum by (handler) (rate(http_requests_total[5m])))', "range", DAY, 60),
    ("regex_5xx_api", 'sum(rate(http_requests_total{handler=~"/api/.*",code=~"5.."}[5m]))', "range", DAY, 60),
    ("error_ratio_by_job", 'sum by (job) (rate(http_requests_total{code=~"5.."}[5m])) / sum by (job) (rate(http_requests_total[5m]))', "range", DAY, 60),
    ("cpu_busy_by_instance", 'avg by (instance) (1 - rate(node_cpu_seconds_total{mode="idle"}[5m]))', "range", DAY, 60),
    ("cpu_sum_without", 'sum without (instance, cpu) (rate(node_cpu_seconds_total[5m]))', "range", DAY, 60),
    ("mem_used_pct", '100 * (1 - node_memory_MemAvailable_bytes / node_memory_MemTotal_bytes)', "range", DAY, 60),
    ("max_load_1h", 'max_over_time(node_load1[1h])', "range", DAY, 60),
    ("quantile_by_job", 'quantile by (job) (0.9, rate(http_requests_total[5m]))', "range", DAY, 60),
    ("rate_1h_15s", 'sum by (instance, code) (rate(http_requests_total[5m]))', "range", 3600, 15),
    ("raw_fs_avail_1h_15s", 'node_filesystem_avail_bytes{mountpoint="/"}', "range", 3600, 15),
    ("count_all_by_job", 'count by (job) ({__name__=~".+"})', "instant"),
    ("up_by_job", 'sum by (job) (up)', "instant"),
    ("increase_1h", 'sum by (job, handler) (increase(http_requests_total[1h]))', "instant"),
    ("topk_instant", 'topk(5, sum by (instance, handler) (rate(http_requests_total[5m])))', "instant"),
    ("p99_by_job_instant", 'histogram_quantile(0.99, sum by (job, le) (rate(http_request_duration_seconds_bucket[5m])))', "instant"),
]
# Timed like the others, listed after the geometric mean and left out of it: the constant
# query `1` is each server's round-trip floor (HTTP, parsing, JSON; no data), which bounds how
# far any sub-millisecond query can go below it.
REFERENCE_QUERIES = [
    ("http_floor", "1", "instant"),
]

EXTRA_FLAGS = {
    # No response cache and no hiding of the newest 30 s, so VM answers from the same raw data.
    "victoriametrics": ["-search.disableCache", "-search.latencyOffset=0s", "-search.maxQueryDuration=600s"],
}


def log(message):
    print(message, file=sys.stderr, flush=True)


# --- queries ------------------------------------------------------------------------------

def query_params(query, end_s, hours):
    name, expr, kind = query[:3]
    if kind == "instant":
        return "/api/v1/query", {"query": expr, "time": str(end_s)}
    span, step = query[3], query[4]
    span = hours * 3600 if span == DAY else span
    end = end_s - end_s % step
    return "/api/v1/query_range", {"query": expr, "start": str(end - span), "end": str(end), "step": str(step)}


class Client:
    """One keep-alive HTTP/1.1 connection; get() returns (status, body bytes, seconds)."""

    def __init__(self, port, timeout):
        self.port, self.timeout = port, timeout
        self.connection = None

    def get(self, path, params):
        url = path + "?" + urllib.parse.urlencode(params)
        for attempt in (0, 1):
            if self.connection is None:
                self.connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=self.timeout)
                self.connection.connect()
            start = time.perf_counter()
            try:
                self.connection.request("GET", url, headers={"Accept": "application/json"})
                response = self.connection.getresponse()
                body = response.read()
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
                self.close()
                if attempt:
                    raise
                continue  # the server closed an idle keep-alive connection: reconnect, untimed
            elapsed = time.perf_counter() - start
            if response.getheader("Connection", "").lower() == "close":
                self.close()
            return response.status, body, elapsed

    def close(self):
        if self.connection is not None:
            self.connection.close()
            self.connection = None


def instant_value(client, expr, time_s):
    status, body, _ = client.get("/api/v1/query", {"query": expr, "time": str(time_s)})
    if status != 200:
        raise RuntimeError("HTTP %d for %s: %s" % (status, expr, body[:200].decode(errors="replace")))
    result = json.loads(body)["data"]["result"]
    return float(result[0]["value"][1]) if result else None


def check_ingest(client, dataset, expected):
    """Returns (mismatch strings, number of metrics whose check queries all failed)."""
    window = "%dh" % (dataset.hours + 2)
    problems, failed = [], 0
    for name, (series, samples, total) in sorted(expected.items()):
        try:
            got_series = instant_value(client, "count(count_over_time(%s[%s]))" % (name, window), dataset.end_s)
            got_samples = instant_value(client, "sum(count_over_time(%s[%s]))" % (name, window), dataset.end_s)
            got_sum = instant_value(client, "sum(sum_over_time(%s[%s]))" % (name, window), dataset.end_s)
        except Exception as error:
            client.close()
            problems.append("%s: check query failed: %s" % (name, error))
            failed += 1
            continue
        if got_series != series or got_samples != samples or got_sum is None or not close(got_sum, total, 1e-9):
            problems.append("%s: series %s/%d, samples %s/%d, sum %r/%r" % (name, got_series, series, got_samples, samples, got_sum, total))
    return problems, failed


# --- result comparison --------------------------------------------------------------------

def close(a, b, tolerance=RELATIVE_TOLERANCE):
    if math.isnan(a) or math.isnan(b):
        return math.isnan(a) and math.isnan(b)
    if math.isinf(a) or math.isinf(b):
        return a == b
    return abs(a - b) <= tolerance * max(abs(a), abs(b)) or abs(a - b) <= 1e-12


def normalize(body, kind, params):
    """JSON response -> {label tuple: {timestamp ms: value}}, without the last step of a range."""
    document = json.loads(body)
    data = document["data"]
    if data["resultType"] == "scalar":
        items = [{"metric": {}, "value": data["result"]}]
    else:
        items = data["result"]
    last = int(params["end"]) * 1000 if kind == "range" else None
    out = {}
    for item in items:
        points = item["values"] if "values" in item else [item["value"]]
        series = {}
        for t, v in points:
            t = int(round(float(t) * 1000))
            if t != last:
                series[t] = float(v)
        if series:
            out[tuple(sorted(item["metric"].items()))] = series
    return out


def compare(reference, other):
    """Returns a dict describing how `other` differs from `reference`. Series are matched by
    label set; when that leaves some unmatched but matching without __name__ pairs them all up
    (MetricsQL keeps the name where PromQL drops it, e.g. max_over_time), that is used and noted."""
    name_differs = False
    if set(reference) != set(other):
        strip = lambda key: tuple(p for p in key if p[0] != "__name__")  # noqa: E731
        stripped_ref, stripped_other = {strip(k): k for k in reference}, {strip(k): k for k in other}
        if (len(stripped_ref) == len(reference) and len(stripped_other) == len(other)
                and set(stripped_ref) == set(stripped_other)):
            name_differs = True
            other = {stripped_ref[strip(k)]: v for k, v in other.items()}
    missing = [k for k in reference if k not in other]
    extra = [k for k in other if k not in reference]
    points = differing = 0
    max_relative = 0.0
    example = None
    for key in reference:
        if key not in other:
            continue
        a, b = reference[key], other[key]
        for t in sorted(set(a) | set(b)):
            points += 1
            if t not in a or t not in b:
                differing += 1
                example = example or "%s at %d: %s vs %s" % (dict(key), t // 1000, a.get(t), b.get(t))
                continue
            if not close(a[t], b[t]):
                differing += 1
                if not (math.isnan(a[t]) or math.isnan(b[t]) or math.isinf(a[t]) or math.isinf(b[t])):
                    max_relative = max(max_relative, abs(a[t] - b[t]) / max(abs(a[t]), abs(b[t])))
                example = example or "%s at %d: %r vs %r" % (dict(key), t // 1000, a[t], b[t])
    if name_differs and not example:
        example = "same series and values, but __name__ kept"
    if missing and not example:
        example = "missing series %s" % dict(missing[0])
    elif extra and not example:
        example = "extra series %s" % dict(extra[0])
    return {"ok": not missing and not extra and differing == 0 and not name_differs, "name_differs": name_differs,
            "series": len(reference), "missing_series": len(missing),
            "extra_series": len(extra), "points": points, "differing_points": differing, "max_relative": max_relative,
            "example": example}


def agreement_text(result):
    if result is None:
        return "n/a"
    if result["ok"]:
        return "ok"
    parts = ["__name__ kept"] if result["name_differs"] else []
    if result["missing_series"] or result["extra_series"]:
        parts.append("series -%d/+%d" % (result["missing_series"], result["extra_series"]))
    if result["differing_points"]:
        parts.append("%d/%d pts, max rel %.1e" % (result["differing_points"], result["points"], result["max_relative"]))
    return "; ".join(parts)


# --- one server ---------------------------------------------------------------------------

def run_server(name, options, workdir, workload, requests, dataset, expected):
    out = {"server": name, "queries": {}}
    os.sync()
    time.sleep(1)
    with Server(name, workdir, options.osprey_bin, EXTRA_FLAGS) as server:
        log("%s: ingesting %d samples (%d requests)" % (name, dataset.sample_count, requests))
        cpu_before = proc_cpu_seconds(server.pid)
        start = time.time()
        loadgen = subprocess.run([os.path.join(HERE, "loadgen"), str(server.port), "/api/v1/write", workload, "1"],
                                 capture_output=True, text=True)
        out["ingest_seconds"] = time.time() - start
        out["ingest_cpu_seconds"] = proc_cpu_seconds(server.pid) - cpu_before
        try:
            failures = json.loads(loadgen.stdout)["failures"]
        except (ValueError, KeyError):
            failures = -1
        out["ingest_failed_requests"] = failures
        if loadgen.returncode != 0 or failures:
            log("%s: loadgen: %s %s" % (name, loadgen.stdout.strip(), loadgen.stderr.strip()[:2000]))
        if name == "victoriametrics":
            urllib.request.urlopen(server.url + "/internal/force_flush", timeout=60).read()
            time.sleep(2)
        client = Client(server.port, options.timeout)
        problems, failed = check_ingest(client, dataset, expected)
        if failed == len(expected):  # e.g. no query API in this build
            out["error"] = "query API unusable: %s" % problems[0].split(": ", 2)[-1]
            log("%s: %s" % (name, out["error"]))
            return out
        out["ingest_ok"] = not problems and failures == 0
        out["ingest_problems"] = problems
        for problem in problems:
            log("%s: INGEST MISMATCH %s" % (name, problem))
        out["idle_wait_seconds"] = wait_idle(server.pid)
        log("%s: ingest %s in %.1f s; idle after %.1f s more; timing %d queries" % (
            name, "verified" if out["ingest_ok"] else "INCOMPLETE", out["ingest_seconds"], out["idle_wait_seconds"], len(QUERIES)))
        for query in QUERIES + REFERENCE_QUERIES:
            out["queries"][query[0]] = time_query(client, server.pid, query, dataset, options)
        out["peak_rss_mib"] = proc_status_kib(server.pid, "VmHWM") / 1024
        out["rss_mib"] = proc_status_kib(server.pid, "VmRSS") / 1024
        client.close()
    return out


def time_query(client, pid, query, dataset, options):
    path, params = query_params(query, dataset.end_s, options.hours)
    kind = query[2]
    record = {"path": path, "params": params}
    warmups = []
    first_body = None
    for _ in range(max(1, options.warmup)):
        try:
            status, body, seconds = client.get(path, params)
        except Exception as error:
            record["error"] = "%s: %s" % (type(error).__name__, error)
            client.close()
            return record
        if status != 200:
            record["error"] = "HTTP %d: %s" % (status, body[:300].decode(errors="replace"))
            return record
        warmups.append(seconds)
        if first_body is None:
            first_body = body
    record["result"] = normalize(first_body, kind, params)
    record["response_bytes"] = len(first_body)
    runs = options.runs
    if options.max_query_seconds and warmups[-1] * runs > options.max_query_seconds:
        runs = max(min(5, runs), int(options.max_query_seconds / warmups[-1]))
    latencies = []
    cpu_before = proc_cpu_seconds(pid)
    for _ in range(runs):
        status, body, seconds = client.get(path, params)
        if status != 200:
            record["error"] = "HTTP %d during timed runs" % status
            break
        latencies.append(seconds)
    cpu = proc_cpu_seconds(pid) - cpu_before
    if latencies:
        ordered = sorted(latencies)
        record.update({"runs": len(latencies), "median_ms": statistics.median(ordered) * 1000,
                       "p90_ms": ordered[max(0, math.ceil(0.9 * len(ordered)) - 1)] * 1000,
                       "min_ms": ordered[0] * 1000, "max_ms": ordered[-1] * 1000,
                       "cpu_ms_per_query": cpu * 1000 / len(latencies)})
    return record


# --- report -------------------------------------------------------------------------------

def report(results, options, dataset):
    by = {r["server"]: r for r in results}
    systems = [n for n in ORDER if n in by]
    reference = "prometheus" if "prometheus" in by else (systems[0] if systems else None)
    rows = []
    for query in QUERIES + REFERENCE_QUERIES:
        name = query[0]
        row = {"name": name, "expr": query[1], "kind": query[2], "reference": query in REFERENCE_QUERIES,
               "span_s": (options.hours * 3600 if query[3] == DAY else query[3]) if query[2] == "range" else None,
               "step_s": query[4] if query[2] == "range" else None, "servers": {}, "agreement": {}, "ratios": {}}
        ref_record = by[reference]["queries"].get(name, {}) if reference else {}
        row["params"] = query_params(query, dataset.end_s, options.hours)[1]
        for system in systems:
            record = by[system]["queries"].get(name)
            if record is None:
                row["servers"][system] = {"error": by[system].get("error", "not run")}
                continue
            row["servers"][system] = {k: v for k, v in record.items() if k not in ("result", "path", "params")}
            if system != reference and "result" in record and "result" in ref_record:
                row["agreement"][system] = compare(ref_record["result"], record["result"])
            elif system != reference:
                row["agreement"][system] = None
        if "result" in ref_record:
            row["result_series"] = len(ref_record["result"])
            row["result_points"] = sum(len(s) for s in ref_record["result"].values())
        osprey = row["servers"].get("osprey", {})
        for peer in ("prometheus", "victoriametrics"):
            other = row["servers"].get(peer, {})
            if "median_ms" in osprey and "median_ms" in other:
                row["ratios"]["osprey/" + peer] = osprey["median_ms"] / other["median_ms"]
        rows.append(row)
    return {"dataset": {"hosts": dataset.hosts, "series": len(dataset.labels), "samples_per_series": dataset.steps,
                        "samples": dataset.sample_count, "interval_s": dataset.interval_s, "hours": dataset.hours,
                        "end": dataset.end_s},
            "runs": options.runs, "warmup": options.warmup, "reference": reference,
            "servers": {r["server"]: {k: v for k, v in r.items() if k != "queries"} for r in results},
            "queries": rows}


def cell(server, runs):
    if not server:
        return "-"
    if "median_ms" not in server:
        return "error"
    return "%s / %s%s" % (ms(server["median_ms"]), ms(server["p90_ms"]), "" if server["runs"] >= runs else " (n=%d)" % server["runs"])


def ms(value):
    return "%.2f" % value if value < 1 else "%.1f" % value if value < 100 else "%.0f" % value


def print_table(summary):
    systems = [n for n in ORDER if n in summary["servers"]]
    d = summary["dataset"]
    print("\n%d hosts, %d series x %d samples (%d h + 1 h at %d s) = %d samples; %d timed runs after %d warm-ups; "
          "latency = client wall clock, ms, median / p90" % (d["hosts"], d["series"], d["samples_per_series"], d["hours"],
                                                           d["interval_s"], d["samples"], summary["runs"], summary["warmup"]))
    for system in systems:
        s = summary["servers"][system]
        if "error" in s:
            print("%s: %s" % (system, s["error"]))
        else:
            print("%s: ingest %s (%.1f s, %.1f CPU-s), RSS %.0f MiB after the queries (peak %.0f MiB)" % (
                system, "verified" if s.get("ingest_ok") else "INCOMPLETE: " + "; ".join(s.get("ingest_problems", [])),
                s["ingest_seconds"], s["ingest_cpu_seconds"], s.get("rss_mib", 0), s.get("peak_rss_mib", 0)))
    ratios = [p for p in ("prometheus", "victoriametrics") if "osprey" in systems and p in systems]
    others = [s for s in systems if s != summary["reference"]]
    header = ["query", "type"] + systems + ["osprey/" + ("prom" if p == "prometheus" else "vm") for p in ratios]
    header += ["vs %s: %s" % (summary["reference"], s) for s in others]
    print()
    print("| " + " | ".join(header) + " |")
    print("|" + "---|" * len(header))
    geo = {s: [] for s in systems}
    geo_ratio = {p: [] for p in ratios}

    def row_cells(row):
        kind = "instant" if row["kind"] == "instant" else "%s/%ds" % (span_text(row["span_s"]), row["step_s"])
        cells = [row["name"], kind] + [cell(row["servers"].get(s), summary["runs"]) for s in systems]
        for p in ratios:
            r = row["ratios"].get("osprey/" + p)
            cells.append("%.2fx" % r if r else "-")
        return cells + [agreement_text(row["agreement"].get(s)) for s in others]

    for row in summary["queries"]:
        if row.get("reference"):
            continue
        for p in ratios:
            if row["ratios"].get("osprey/" + p):
                geo_ratio[p].append(row["ratios"]["osprey/" + p])
        for s in systems:
            if "median_ms" in row["servers"].get(s, {}):
                geo[s].append(row["servers"][s]["median_ms"])
        print("| " + " | ".join(row_cells(row)) + " |")
    cells = ["geometric mean", ""] + [("%s ms" % ms(geomean(geo[s]))) if geo[s] else "-" for s in systems]
    cells += ["%.2fx" % geomean(geo_ratio[p]) if geo_ratio[p] else "-" for p in ratios] + [""] * len(others)
    print("| " + " | ".join(cells) + " |")
    for row in summary["queries"]:
        if row.get("reference"):
            print("| " + " | ".join(row_cells(row)) + " |")
    print()
    for row in summary["queries"]:
        print("%-24s %s" % (row["name"], row["expr"]))
    disagreements = [(row["name"], s, a) for row in summary["queries"] for s, a in row["agreement"].items() if a and not a["ok"]]
    if disagreements:
        print("\nResult differences (first differing point; %s first):" % summary["reference"])
        for name, system, a in disagreements:
            print("  %s, %s: %s" % (name, system, a["example"]))
    server_errors = {s: v.get("error") for s, v in summary["servers"].items()}
    errors = [(row["name"], s, v["error"]) for row in summary["queries"] for s, v in row["servers"].items()
              if "error" in v and v["error"] != server_errors.get(s)]
    if errors:
        print("\nErrors:")
        for name, system, error in errors:
            print("  %s, %s: %s" % (name, system, error))


def span_text(seconds):
    return "%dh" % (seconds // 3600) if seconds % 3600 == 0 else "%dm" % (seconds // 60)


def geomean(values):
    return math.exp(sum(math.log(v) for v in values) / len(values))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", action="append", help="comma-separated subset of prometheus,victoria-metrics,osprey")
    parser.add_argument("--series", type=int, default=3000, help="about this many series (202 per host)")
    parser.add_argument("--hours", type=int, default=24, help="history queried by the day-long range queries (1 h more is ingested)")
    parser.add_argument("--interval", type=int, default=60, help="seconds between samples of a series")
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--max-query-seconds", type=float, default=15.0, help="fewer runs (min 5) for a query slower than this / runs; 0: never")
    parser.add_argument("--timeout", type=float, default=60.0, help="per HTTP request, seconds")
    parser.add_argument("--osprey-bin", default=DEFAULT_OSPREY)
    parser.add_argument("--json", nargs="?", const="-", metavar="FILE", help="write all results as JSON to FILE ('-' or no FILE: stdout, no table)")
    parser.add_argument("--keep", action="store_true", help="keep the work directory (data, server logs)")
    options = parser.parse_args()
    only = parse_only(options.only)
    systems = [n for n in ORDER if not only or n in only]
    if "osprey" in systems and not os.path.exists(options.osprey_bin):
        parser.error("no Osprey binary at %s (build it, pass --osprey-bin, or --only prometheus,victoria-metrics)" % options.osprey_bin)

    subprocess.run(["cc", "-O2", "-pthread", "-o", os.path.join(HERE, "loadgen"), os.path.join(HERE, "loadgen.c")], check=True)
    workdir = tempfile.mkdtemp(prefix="osprey-query-bench-")
    write_prometheus_config(workdir)
    started = time.time()
    dataset = Dataset(options.series, options.hours, options.interval, int(time.time()))
    workload = os.path.join(workdir, "workload.bin")
    requests = dataset.write_bodies(workload)
    expected = dataset.expected()
    log("data set: %d hosts, %d series x %d samples, ends %s; generated in %.1f s" % (
        dataset.hosts, len(dataset.labels), dataset.steps, time.strftime("%H:%M:%S", time.localtime(dataset.end_s)), time.time() - started))
    results = []
    try:
        for name in systems:
            results.append(run_server(name, options, workdir, workload, requests, dataset, expected))
            for directory in ("osprey", "prometheus", "vm"):
                if not options.keep:
                    shutil.rmtree(os.path.join(workdir, directory), ignore_errors=True)
    finally:
        if options.keep:
            log("work directory kept: %s" % workdir)
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    summary = report(results, options, dataset)
    summary["wall_seconds"] = time.time() - started
    if options.json and options.json != "-":
        with open(options.json, "w") as f:
            json.dump(summary, f, indent=1)
    if options.json == "-":
        json.dump(summary, sys.stdout, indent=1)
        print()
    else:
        print_table(summary)
        print("\ntotal %.0f s" % summary["wall_seconds"])


if __name__ == "__main__":
    main()
