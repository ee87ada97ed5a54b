#!/usr/bin/env python3
"""Side-by-side scrape benchmark: Osprey vs Prometheus 2.42, the same scrape config for both.

A fixture HTTP server (bench/compare/scrapefixture.c, compiled at run time: one epoll thread on
127.0.0.1 serving pre-rendered bodies over keep-alive connections, one listening port per
target so every target has its own `instance`) is scraped by each server in turn (one at a
time, each with an empty data directory, started with `prometheus --config.file F` /
`osprey serve --config.file F --scrape.self=false`, stopped by PID). Two phases:

1. ingest: parse/ingest cost. `--targets` targets (default 5) each serve a large node-exporter-
   like exposition of about `--lines` samples (default 100k: families with HELP/TYPE, counters,
   gauges, two classic histograms, label values, Go-formatted floats), text format 0.0.4 or with
   `--format openmetrics` OpenMetrics 1.0. `--variants` bodies with different values are
   rendered; each target serves the next one every `--change-every` scrapes (so samples are not
   all identical). Scraped every `--interval` s (default 5) for `--minutes` (default 3) after
   `--warmup-intervals` intervals (the first scrapes create the series; their CPU is reported
   apart). Reports server CPU-seconds (utime+stime from /proc/PID/stat) over the window per
   million scraped samples, the samples scraped in the window (sum_over_time of
   scrape_samples_scraped), scrapes per target (count_over_time(up)), what the fixture served
   in the window, scrape_duration_seconds (avg_over_time / max_over_time), a spot check that
   every node_cpu_seconds_total sample of every scrape was stored, and RSS.
2. many: `--many-targets` targets (default 1000) each serving `--many-series` samples (default
   150) at `--many-interval` s (default 15) for `--many-minutes` (default 3) after one interval
   plus 5 s. The raw `up` samples of the window (an instant query of `up[W]`) give, per target,
   the scrapes in the window (expected W / interval each), the missed intervals (a gap between
   consecutive scrapes of more than 1.5 intervals, or a missing scrape at either end), the
   largest gap, and failed scrapes (up == 0). Also max and average scrape_duration_seconds,
   server CPU % (of one core) and RSS.

After Osprey's ingest window, `--perf-seconds` (default 15; 0: off) of `perf record -g` on the
running osprey process (outside the measured window) give its top symbols.

Prints the exact configuration (sizes, the scrape config), phase wall times, and per phase a
Markdown table with the Osprey/Prometheus ratio. `--json FILE` writes every number.

Usage: bench/compare/scrape.py [--lines 100000] [--targets 5] [--interval 5] [--minutes 3]
           [--format text|openmetrics] [--variants 4] [--change-every 1] [--gzip]
           [--many-targets 1000] [--many-series 150] [--many-interval 15] [--many-minutes 3]
           [--phases ingest,many] [--only osprey,prometheus] [--osprey-bin .build/release/osprey]
           [--perf-seconds 15] [--json FILE] [--keep]
Needs: scripts/install-bench-deps.sh (Debian prometheus; cc), a release build of Osprey
(`swift build -c release`) unless --only prometheus, and perf for the profile. At the defaults
both phases for both servers take about 15 minutes on 2 cores.
"""
import argparse
import gzip
import json
import math
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from common import DEFAULT_OSPREY, Server, parse_only, proc_cpu_seconds, proc_status_kib  # noqa: E402

ORDER = ("osprey", "prometheus")
CONTENT_TYPES = {
    "text": "text/plain; version=0.0.4; charset=utf-8",
    "openmetrics": "application/openmetrics-text; version=1.0.0; charset=utf-8",
}


def log(message):
    print("[%s] %s" % (time.strftime("%H:%M:%S"), message), file=sys.stderr, flush=True)


# --- exposition ---------------------------------------------------------------------------

def go_float(x):
    """client_golang's strconv.AppendFloat(x, 'g', -1, 64): shortest digits, exponent form when
    the decimal exponent is < -4 or >= 6 (1.23456789e+09, 1e+06)."""
    if x == 0:
        return "0"
    if math.isinf(x):
        return "+Inf" if x > 0 else "-Inf"
    r = repr(float(x))
    mantissa, _, exponent = r.partition("e")
    digits = mantissa.replace("-", "").replace(".", "").lstrip("0").rstrip("0") or "0"
    exp = int(math.floor(math.log10(abs(x))))
    # log10 may be off by one at powers of ten; settle it from the value itself
    if abs(x) >= 10 ** (exp + 1):
        exp += 1
    elif abs(x) < 10 ** exp:
        exp -= 1
    if exp < -4 or exp >= 6:
        text = format(x, ".%de" % max(0, len(digits) - 1))
        mant, _, e = text.partition("e")
        if "." in mant:
            mant = mant.rstrip("0").rstrip(".")
        sign = e[0]
        return "%se%s%02d" % (mant, sign, int(e[1:].lstrip("+-") or 0))
    text = r if not exponent else format(x, "f")
    if text.endswith(".0"):
        text = text[:-2]
    return text


class Family:
    """One metric family: name (without _total for counters in OpenMetrics), type, help and
    its sample lines as (suffix, label text, value function of the variant)."""

    def __init__(self, name, kind, help_text):
        self.name, self.kind, self.help = name, kind, help_text
        self.samples = []


def labels_text(pairs):
    return "{" + ",".join('%s="%s"' % (k, v) for k, v in pairs) + "}" if pairs else ""


def build_families(lines, seed=0):
    """Node-exporter-like families scaled so that the sample lines add up to about `lines`."""
    modes = ["idle", "user", "system", "iowait", "irq", "nice", "softirq", "steal"]
    buckets = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]
    # sample lines per unit of scale, and the fixed ones (counted from the construction below)
    per_unit = 8 * 4 + 8 * 2 + 6 * 2 + 6 * 2 + 4 + 4 + (len(buckets) + 3) + (len(buckets) + 3) // 2
    scale = max(1, round((lines - 40) / per_unit))
    cpus, nics, mounts, disks, sensors = 4 * scale, 2 * scale, 2 * scale, 2 * scale, 4 * scale
    handlers = scale
    services = max(1, scale // 2)
    fams = []

    def counter(name, help_text, label_sets, base, step, fmt=go_float):
        f = Family(name[:-len("_total")], "counter", help_text)
        for i, ls in enumerate(label_sets):
            b = base(i)
            f.samples.append(("_total", labels_text(ls), lambda v, b=b, s=step(i): fmt(b + v * s)))
        fams.append(f)

    def gauge(name, help_text, label_sets, base, wiggle):
        f = Family(name, "gauge", help_text)
        for i, ls in enumerate(label_sets):
            b = base(i)
            f.samples.append(("", labels_text(ls), lambda v, b=b, w=wiggle(i): go_float(b + ((v * 7 + 3) % 5 - 2) * w)))
        fams.append(f)

    def histogram(name, help_text, label_sets, scale_count):
        f = Family(name, "histogram", help_text)
        for i, ls in enumerate(label_sets):
            total0 = scale_count * (i % 17 + 1)
            shares = [min(1.0, 0.2 + 0.09 * k + 0.005 * (i % 7)) for k in range(len(buckets))]

            def value(v, k, total0=total0, shares=shares):
                count = total0 + v * 10
                return str(int(count * shares[k]) if k < len(buckets) else count)
            for k, le in enumerate(buckets + [float("inf")]):
                f.samples.append(("_bucket", labels_text(ls + [("le", go_float(le))]), lambda v, k=k, value=value: value(v, k)))
            f.samples.append(("_sum", labels_text(ls), lambda v, total0=total0: go_float(round((total0 + v * 10) * 0.0731, 4))))
            f.samples.append(("_count", labels_text(ls), lambda v, value=value: value(v, len(buckets))))
        fams.append(f)

    cpu_sets = [[("cpu", str(c)), ("mode", m)] for c in range(cpus) for m in modes]
    counter("node_cpu_seconds_total", "Seconds the CPUs spent in each mode.", cpu_sets,
            lambda i: 1000.0 + 37.13 * i + (1e6 if i % 8 == 0 else 0), lambda i: 0.01 * (1 + i % 8), lambda x: "%.2f" % x)
    nic_sets = [[("device", "eth%d" % n)] for n in range(nics)]
    for what in ("bytes", "packets", "errs", "drop"):
        for direction in ("receive", "transmit"):
            counter("node_network_%s_%s_total" % (direction, what), "Network device statistic %s_%s." % (direction, what), nic_sets,
                    lambda i, w=what: {"bytes": 1.5e9, "packets": 2.1e7, "errs": 0.0, "drop": 12.0}[w] + 4096 * i,
                    lambda i, w=what: {"bytes": 123456.0, "packets": 321.0, "errs": 0.0, "drop": 1.0}[w])
    fs_sets = [[("device", "/dev/sd%s%d" % (chr(97 + m % 26), m // 26)), ("fstype", "ext4" if m % 3 else "xfs"), ("mountpoint", "/mnt/vol%d" % m)]
               for m in range(mounts)]
    for what, base in (("avail_bytes", 4.2e10), ("free_bytes", 4.5e10), ("size_bytes", 1.0e11)):
        gauge("node_filesystem_%s" % what, "Filesystem %s." % what.replace("_", " "), fs_sets, lambda i, b=base: b - 4096 * i, lambda i: 4096.0)
    for what, base in (("files", 6.5536e6), ("files_free", 6.4e6)):
        gauge("node_filesystem_%s" % what, "Filesystem %s." % what.replace("_", " "), fs_sets, lambda i, b=base: b - i, lambda i, w=what: 0.0 if w == "files" else 3.0)
    gauge("node_filesystem_readonly", "Filesystem read-only status.", fs_sets, lambda i: 0.0, lambda i: 0.0)
    disk_sets = [[("device", "nvme%dn1" % d)] for d in range(disks)]
    for what, base, step in (("reads_completed", 8.1e5, 40.0), ("writes_completed", 2.3e6, 120.0), ("read_bytes", 2.2e10, 1.6e5),
                             ("written_bytes", 9.9e10, 4.9e5), ("io_time_seconds", 5123.456, 0.128), ("read_time_seconds", 812.5, 0.031)):
        counter("node_disk_%s_total" % what, "Disk statistic %s." % what, disk_sets, lambda i, b=base: b + 1000 * i, lambda i, s=step: s)
    sensor_sets = [[("chip", "platform_coretemp_%d" % (s // 8)), ("sensor", "temp%d" % (s % 8 + 1))] for s in range(sensors)]
    gauge("node_hwmon_temp_celsius", "Hardware monitor for temperature (input).", sensor_sets, lambda i: 40.0 + i % 20, lambda i: 1.0)
    softnet_sets = [[("cpu", str(c))] for c in range(cpus)]
    counter("node_softnet_processed_total", "Number of processed packets.", softnet_sets, lambda i: 7.77e7 + i, lambda i: 5000.0)
    handler_sets = [[("handler", "/api/v1/resource%d" % h), ("method", m)] for h in range(handlers) for m in ("GET", "POST")]
    histogram("http_request_duration_seconds", "Latency of HTTP requests.", handler_sets[:max(1, len(handler_sets) // 2)], 1000)
    rpc_sets = [[("service", "svc%d" % s), ("code", c)] for s in range(services) for c in ("OK",)]
    histogram("rpc_duration_seconds", "RPC latency.", rpc_sets, 500)
    for name, base in (("node_load1", 0.42), ("node_load5", 0.61), ("node_load15", 0.7)):
        gauge(name, "%s-minute load average." % name[len("node_load"):], [[]], lambda i, b=base: b, lambda i: 0.01)
    for what, base in (("MemTotal", 1.6595640320e10), ("MemFree", 2.1e9), ("MemAvailable", 9.8e9), ("Buffers", 3.1e8), ("Cached", 6.2e9),
                       ("SwapTotal", 0.0), ("SwapFree", 0.0), ("Active", 5.5e9), ("Inactive", 4.4e9), ("Dirty", 1.2e6)):
        gauge("node_memory_%s_bytes" % what, "Memory information field %s_bytes." % what, [[]], lambda i, b=base: b, lambda i, b=base: 4096.0 if b else 0.0)
    for name, value in (("node_boot_time_seconds", 1.712e9), ("node_time_seconds", 1.75e9), ("node_procs_running", 3.0),
                        ("node_procs_blocked", 0.0), ("node_context_switches_total", 9.1e9), ("node_intr_total", 5.5e9),
                        ("node_forks_total", 1.2e6), ("node_entropy_available_bits", 256.0), ("node_nf_conntrack_entries", 812.0),
                        ("node_sockstat_TCP_inuse", 41.0), ("node_filefd_allocated", 4032.0), ("node_filefd_maximum", 9.2e18)):
        if name.endswith("_total"):
            counter(name, "%s." % name, [[]], lambda i, b=value: b, lambda i: 100.0)
        else:
            gauge(name, "%s." % name, [[]], lambda i, b=value: b, lambda i: 1.0)
    return fams


def small_families(lines):
    """A small exposition of about `lines` samples (the many-targets phase): a process/Go
    runtime-like set, a request counter and one histogram."""
    fams = []
    f = Family("http_requests", "counter", "Requests served.")
    n = max(1, (lines - 14 - 20) // 2)
    for i in range(n):
        for code in ("200", "500"):
            f.samples.append(("_total", labels_text([("handler", "/h%d" % i), ("code", code)]),
                              lambda v, i=i, c=code: go_float(1000.0 * (i + 1) + v * (17 if c == "200" else 1))))
    fams.append(f)
    h = Family("request_duration_seconds", "histogram", "Request latency.")
    for k, le in enumerate([0.01, 0.05, 0.1, 0.5, 1, 5, 10, 25, 50, 100, 250, float("inf")]):
        h.samples.append(("_bucket", labels_text([("le", go_float(le))]), lambda v, k=k: str(100 * (k + 1) + v * (k + 1))))
    h.samples.append(("_sum", "", lambda v: go_float(512.25 + v * 3.5)))
    h.samples.append(("_count", "", lambda v: str(1200 + v * 12)))
    fams.append(h)
    for i in range(max(0, lines - 2 * n - 14)):
        g = Family("process_stat_%d" % i, "gauge", "A process statistic.")
        g.samples.append(("", "", lambda v, i=i: go_float(1.5e7 + 4096.0 * i + v * 8192)))
        fams.append(g)
    return fams


def render(fams, variant, fmt):
    out = []
    om = fmt == "openmetrics"
    for f in fams:
        name = f.name if (om or f.kind != "counter") else f.name + "_total"
        out.append("# HELP %s %s\n# TYPE %s %s\n" % (name, f.help, name, f.kind))
        out.extend("%s%s%s %s\n" % (f.name, suffix, labels, value(variant)) for suffix, labels, value in f.samples)
    if om:
        out.append("# EOF\n")
    return "".join(out).encode()


def write_bodies(directory, prefix, fams, variants, fmt, zipped):
    paths = []
    for v in range(variants):
        path = os.path.join(directory, "%s-%d.prom" % (prefix, v))
        body = render(fams, v, fmt)
        with open(path, "wb") as f:
            f.write(body)
        if zipped:
            with open(path + ".gz", "wb") as f:
                f.write(gzip.compress(body, 6))
        paths.append(path)
    return paths


# --- fixture and servers ------------------------------------------------------------------

class Fixture:
    def __init__(self, binary, ports, fmt, change_every, zipped, bodies):
        self.process = subprocess.Popen([binary, str(ports), CONTENT_TYPES[fmt], str(change_every), "1" if zipped else "0"] + bodies,
                                        stdout=subprocess.PIPE, text=True)
        self.ports = []
        for line in self.process.stdout:
            line = line.strip()
            if line == "ready":
                break
            self.ports.append(int(line))
        if len(self.ports) != ports:
            self.stop()
            raise RuntimeError("scrapefixture started %d of %d ports" % (len(self.ports), ports))
        self.pid = self.process.pid

    def stats(self):
        with urllib.request.urlopen("http://127.0.0.1:%d/-/stats" % self.ports[0], timeout=10) as r:
            return {k: int(v) for k, v in (line.split() for line in r.read().decode().splitlines())}

    def stop(self):
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()


def scrape_config(job, ports, interval):
    timeout = min(interval, 10)
    lines = ["global:", "  scrape_interval: %ds" % interval, "  scrape_timeout: %ds" % timeout, "scrape_configs:",
             "  - job_name: %s" % job, "    scrape_interval: %ds" % interval, "    scrape_timeout: %ds" % timeout,
             "    metrics_path: /metrics", "    static_configs:", "      - targets:"]
    lines += ["          - 127.0.0.1:%d" % p for p in ports]
    return "\n".join(lines) + "\n"


def config_summary(text, max_targets=3):
    """The config with the target list shortened for printing."""
    out, targets = [], []
    for line in text.splitlines():
        if line.strip().startswith("- 127.0.0.1:"):
            targets.append(line)
            continue
        out.append(line)
    shown = targets[:max_targets]
    if len(targets) > max_targets:
        shown.append(targets[0].split("-")[0] + "# ... %d targets in all (127.0.0.1:%s .. :%s)" % (
            len(targets), targets[0].rsplit(":", 1)[1], targets[-1].rsplit(":", 1)[1]))
    return "\n".join(out + shown)


def start_server(name, phase_dir, options, config_path):
    extra = {"osprey": ["--config.file", config_path, "--scrape.self=false"]}
    server = Server(name, phase_dir, options.osprey_bin, extra)
    began = time.time()
    server.start()
    return server, time.time() - began


def query(server, expr, at):
    data = urllib.parse.urlencode({"query": expr, "time": "%.3f" % at}).encode()
    with urllib.request.urlopen(server.url + "/api/v1/query", data=data, timeout=300) as r:
        body = json.loads(r.read())
    if body.get("status") != "success":
        raise RuntimeError("%s: %s" % (expr, body))
    return body["data"]


def scalar(server, expr, at):
    result = query(server, expr, at)["result"]
    return float(result[0]["value"][1]) if result else None


def raw_samples(server, selector, window, at):
    """{instance: [(t, value)]} of an instant query `selector[window s]`."""
    data = query(server, "%s[%ds]" % (selector, window), at)
    return {s["metric"].get("instance", ""): [(float(t), float(v)) for t, v in s["values"]] for s in data["result"]}


def sleep_until(t):
    while True:
        left = t - time.time()
        if left <= 0:
            return
        time.sleep(min(left, 5))


def rss(pid):
    return {"rss_kib": proc_status_kib(pid, "VmRSS"), "hwm_kib": proc_status_kib(pid, "VmHWM")}


def gap_analysis(samples, t0, t1, interval, expected):
    """Per-target scrape counts, missed intervals and largest gaps from raw `up` samples."""
    counts, missed, max_gaps, failed = {}, {}, {}, {}
    for instance, points in samples.items():
        ts = sorted(t for t, _ in points)
        counts[instance] = len(ts)
        failed[instance] = sum(1 for _, v in points if v != 1)
        inner = [b - a for a, b in zip(ts, ts[1:])]
        max_gaps[instance] = max(inner) if inner else float("inf")
        # a gap of g intervals between consecutive scrapes misses round(g) - 1 of them; the
        # window's ends count when no scrape is within one interval (+50%) of them
        m = sum(max(0, round(g / interval) - 1) for g in inner)
        if not ts:
            m = expected
        else:
            m += max(0, math.floor((ts[0] - t0) / interval - 0.5))
            m += max(0, math.floor((t1 - ts[-1]) / interval - 0.5))
        missed[instance] = m
    return counts, missed, max_gaps, failed


# --- phases -------------------------------------------------------------------------------

def profile(pid, seconds, workdir):
    data = os.path.join(workdir, "osprey-perf.data")
    try:
        subprocess.run(["perf", "record", "-q", "-F", "499", "-g", "-p", str(pid), "-o", data, "--", "sleep", str(seconds)],
                       capture_output=True, text=True, timeout=seconds + 120)
        flat = subprocess.run(["perf", "report", "-i", data, "--no-children", "--stdio", "-g", "none", "--percent-limit", "0.7",
                               "--sort", "symbol"], capture_output=True, text=True, timeout=600).stdout
        children = subprocess.run(["perf", "report", "-i", data, "--children", "--stdio", "-g", "none", "--percent-limit", "4",
                                   "--sort", "symbol"], capture_output=True, text=True, timeout=600).stdout
    except (OSError, subprocess.TimeoutExpired) as error:
        return "perf failed: %s" % error

    def clean(text, limit):
        if shutil.which("swift-demangle"):
            text = subprocess.run(["swift-demangle", "--simplified"], input=text, capture_output=True, text=True).stdout or text
        rows = [re.sub(r"(\s+-)+\s*$", "", line.rstrip()) for line in text.splitlines() if line.strip() and not line.startswith("#")]
        return [r[:200] for r in rows[:limit]]
    return {"self": clean(flat, 30), "children": clean(children, 30)}


def run_ingest(name, options, workdir, fixture, config_text, per_target, cpu_family_series):
    phase_dir = os.path.join(workdir, "ingest-" + name)
    os.makedirs(phase_dir)
    config_path = os.path.join(phase_dir, "prom.yml")
    with open(config_path, "w") as f:
        f.write(config_text)
    out = {"server": name, "phases": {}}
    os.sync()
    time.sleep(1)
    began = time.time()
    server, out["start_seconds"] = start_server(name, phase_dir, options, config_path)
    try:
        ready = time.time()
        cpu_ready = proc_cpu_seconds(server.pid)
        t0 = math.ceil(ready + options.warmup_intervals * options.interval)
        sleep_until(t0)
        cpu0, fixture_cpu0, served0 = proc_cpu_seconds(server.pid), proc_cpu_seconds(fixture.pid), fixture.stats()
        out["warmup_cpu_seconds"] = cpu0 - cpu_ready
        out["phases"]["start+warmup"] = t0 - began
        window = int(options.minutes * 60)
        t1 = t0 + window
        log("%s ingest: warm-up %.1f CPU-s; measuring %d s (until %s)" % (name, out["warmup_cpu_seconds"], window, time.strftime("%H:%M:%S", time.localtime(t1))))
        sleep_until(t1)
        cpu1, fixture_cpu1, served1 = proc_cpu_seconds(server.pid), proc_cpu_seconds(fixture.pid), fixture.stats()
        out["rss"] = rss(server.pid)
        out["phases"]["window"] = time.time() - t0
        out["cpu_seconds"] = cpu1 - cpu0
        out["fixture_cpu_seconds"] = fixture_cpu1 - fixture_cpu0
        out["fixture_requests"] = served1["requests"] - served0["requests"]
        out["fixture_mib"] = (served1["body_bytes"] - served0["body_bytes"]) / 2**20
        out["window"] = window
        if name == "osprey" and options.perf_seconds > 0:
            p = time.time()
            log("osprey: perf record for %d s" % options.perf_seconds)
            out["profile"] = profile(server.pid, options.perf_seconds, workdir)
            out["phases"]["perf"] = time.time() - p
        time.sleep(2)  # the newest scrapes committed
        q = time.time()
        job = '{job="ingest"}'
        out["samples_scraped"] = scalar(server, "sum(sum_over_time(scrape_samples_scraped%s[%ds]))" % (job, window), t1) or 0
        up = raw_samples(server, "up" + job, window, t1)
        out["scrapes"] = sum(len(v) for v in up.values())
        out["scrapes_per_target"] = sorted(len(v) for v in up.values())
        out["failed_scrapes"] = sum(1 for v in up.values() for _, x in v if x != 1)
        out["targets_seen"] = len(up)
        out["duration_avg"] = scalar(server, "avg(avg_over_time(scrape_duration_seconds%s[%ds]))" % (job, window), t1)
        out["duration_max"] = scalar(server, "max(max_over_time(scrape_duration_seconds%s[%ds]))" % (job, window), t1)
        out["cpu_series"] = scalar(server, "count(node_cpu_seconds_total%s)" % job, t1)
        out["cpu_samples"] = scalar(server, "sum(count_over_time(node_cpu_seconds_total%s[%ds]))" % (job, window), t1)
        out["cpu_samples_expected"] = cpu_family_series * out["scrapes"]
        out["samples_expected"] = per_target * out["scrapes"]
        out["phases"]["queries"] = time.time() - q
        out["ok"] = (out["samples_scraped"] == out["samples_expected"] and out["cpu_samples"] == out["cpu_samples_expected"]
                     and out["failed_scrapes"] == 0 and out["cpu_series"] == cpu_family_series * options.targets)
        out["cpu_per_million"] = out["cpu_seconds"] / (out["samples_scraped"] / 1e6) if out["samples_scraped"] else None
        log("%s ingest: %.1f CPU-s for %d samples in %d scrapes (%.3f CPU-s per 1M), duration avg %.3f max %.3f s, RSS %.0f MiB%s" % (
            name, out["cpu_seconds"], out["samples_scraped"], out["scrapes"], out["cpu_per_million"] or -1,
            out["duration_avg"] or -1, out["duration_max"] or -1, out["rss"]["rss_kib"] / 1024, "" if out["ok"] else " CHECK FAILED"))
    finally:
        server.stop()
    if not options.keep:
        shutil.rmtree(phase_dir, ignore_errors=True)
    return out


def run_many(name, options, workdir, fixture, config_text, per_target):
    phase_dir = os.path.join(workdir, "many-" + name)
    os.makedirs(phase_dir)
    config_path = os.path.join(phase_dir, "prom.yml")
    with open(config_path, "w") as f:
        f.write(config_text)
    out = {"server": name, "phases": {}}
    os.sync()
    time.sleep(1)
    began = time.time()
    server, out["start_seconds"] = start_server(name, phase_dir, options, config_path)
    try:
        interval = options.many_interval
        t0 = math.ceil(time.time() + interval + 5)
        sleep_until(t0)
        out["phases"]["start+warmup"] = t0 - began
        intervals = max(1, int(options.many_minutes * 60 // interval))
        window = intervals * interval
        t1 = t0 + window
        cpu0, fixture_cpu0, served0 = proc_cpu_seconds(server.pid), proc_cpu_seconds(fixture.pid), fixture.stats()
        log("%s many: measuring %d s = %d intervals (until %s)" % (name, window, intervals, time.strftime("%H:%M:%S", time.localtime(t1))))
        sleep_until(t1)
        cpu1, fixture_cpu1, served1 = proc_cpu_seconds(server.pid), proc_cpu_seconds(fixture.pid), fixture.stats()
        out["rss"] = rss(server.pid)
        out["phases"]["window"] = time.time() - t0
        out["cpu_seconds"] = cpu1 - cpu0
        out["cpu_percent"] = 100 * out["cpu_seconds"] / window
        out["fixture_cpu_seconds"] = fixture_cpu1 - fixture_cpu0
        out["fixture_requests"] = served1["requests"] - served0["requests"]
        out["window"], out["intervals"] = window, intervals
        time.sleep(2)
        q = time.time()
        job = '{job="many"}'
        up = raw_samples(server, "up" + job, window, t1)
        counts, missed, max_gaps, failed = gap_analysis(up, t0, t1, interval, intervals)
        out["targets_seen"] = len(up)
        out["scrapes"] = sum(counts.values())
        out["expected_scrapes"] = intervals * options.many_targets
        out["count_min"] = min(counts.values()) if counts else 0
        out["count_max"] = max(counts.values()) if counts else 0
        out["missed_intervals"] = sum(missed.values()) + intervals * max(0, options.many_targets - len(up))
        out["targets_with_missed"] = sum(1 for m in missed.values() if m) + max(0, options.many_targets - len(up))
        out["max_gap_s"] = max(max_gaps.values()) if max_gaps else None
        out["failed_scrapes"] = sum(failed.values())
        out["duration_max"] = scalar(server, "max(max_over_time(scrape_duration_seconds%s[%ds]))" % (job, window), t1)
        out["duration_avg"] = scalar(server, "avg(avg_over_time(scrape_duration_seconds%s[%ds]))" % (job, window), t1)
        out["samples_scraped"] = scalar(server, "sum(sum_over_time(scrape_samples_scraped%s[%ds]))" % (job, window), t1) or 0
        out["samples_expected"] = per_target * out["scrapes"]
        out["count_over_time_min"] = scalar(server, "min(count_over_time(up%s[%ds]))" % (job, window), t1)
        out["phases"]["queries"] = time.time() - q
        out["all_scraped"] = (len(up) == options.many_targets and out["missed_intervals"] == 0 and out["failed_scrapes"] == 0)
        log("%s many: %d targets, %d scrapes (expected %d), %d missed intervals on %d targets, max gap %.1f s, %d failed; "
            "CPU %.1f%%, duration max %.3f s, RSS %.0f MiB" % (
                name, len(up), out["scrapes"], out["expected_scrapes"], out["missed_intervals"], out["targets_with_missed"],
                out["max_gap_s"] or -1, out["failed_scrapes"], out["cpu_percent"], out["duration_max"] or -1, out["rss"]["rss_kib"] / 1024))
    finally:
        server.stop()
    if not options.keep:
        shutil.rmtree(phase_dir, ignore_errors=True)
    return out


# --- report -------------------------------------------------------------------------------

def fmt(value, digits=2):
    if value is None:
        return "-"
    if isinstance(value, str):
        return value
    return "%.*f" % (digits, value)


def table(results, rows):
    by = {r["server"]: r for r in results}
    systems = [s for s in ORDER if s in by]
    ratio = "osprey" in by and "prometheus" in by
    header = ["metric"] + systems + (["osprey/prometheus"] if ratio else [])
    print("| " + " | ".join(header) + " |")
    print("|" + "---|" * len(header))
    for label, getter, digits, with_ratio in rows:
        values = {}
        for s in systems:
            try:
                values[s] = getter(by[s])
            except (KeyError, TypeError, ZeroDivisionError):
                values[s] = None
        cells = [label] + [fmt(values[s], digits) for s in systems]
        if ratio:
            o, p = values["osprey"], values["prometheus"]
            cells.append("%.2fx" % (o / p) if with_ratio and isinstance(o, (int, float)) and isinstance(p, (int, float)) and p else "-")
        print("| " + " | ".join(cells) + " |")


def versions(options):
    def first_line(argv):
        try:
            return subprocess.run(argv, capture_output=True, text=True, timeout=30).stdout.strip().splitlines()[0]
        except Exception:
            return "?"
    commit = first_line(["git", "-C", HERE, "log", "-1", "--format=%h"])
    package = first_line(["dpkg-query", "-W", "-f", "${Package} ${Version}", "prometheus"])
    return "osprey %s (source commit %s); Debian %s" % (options.osprey_bin, commit, package)


def print_ingest(results, options, info):
    print("\n## 1. Parse/ingest: %d targets x %d samples (%d lines, %.2f MiB per body, %s%s), every %d s for %g min; "
          "%d variants, the next every %d scrapes" % (
              options.targets, info["per_target"], info["lines"], info["body_bytes"] / 2**20, options.format,
              ", gzip %.2f MiB" % (info["gzip_bytes"] / 2**20) if options.gzip else "", options.interval, options.minutes,
              options.variants, options.change_every))
    print()
    mega = lambda r: r["samples_scraped"] / 1e6  # noqa: E731
    table(results, [
        ("**server CPU-s per 1M scraped samples**", lambda r: r["cpu_per_million"], 3, True),
        ("server CPU-s in the window", lambda r: r["cpu_seconds"], 1, True),
        ("server CPU, % of one core", lambda r: 100 * r["cpu_seconds"] / r["window"], 1, True),
        ("samples scraped in the window (sum_over_time scrape_samples_scraped), M", mega, 3, False),
        ("  expected (scrapes x samples per target), M", lambda r: r["samples_expected"] / 1e6, 3, False),
        ("scrapes in the window (count_over_time up), all targets", lambda r: r["scrapes"], 0, False),
        ("  per target (min..max)", lambda r: "%d..%d" % (r["scrapes_per_target"][0], r["scrapes_per_target"][-1]), 0, False),
        ("  failed (up == 0)", lambda r: r["failed_scrapes"], 0, False),
        ("fixture requests served in the window", lambda r: r["fixture_requests"], 0, False),
        ("node_cpu_seconds_total samples stored / expected", lambda r: "%d / %d" % (r["cpu_samples"], r["cpu_samples_expected"]), 0, False),
        ("checks (samples, spot check, no failed scrape)", lambda r: "ok" if r["ok"] else "FAILED", 0, False),
        ("scrape_duration_seconds avg", lambda r: r["duration_avg"], 3, True),
        ("scrape_duration_seconds max", lambda r: r["duration_max"], 3, True),
        ("RSS at the end, MiB", lambda r: r["rss"]["rss_kib"] / 1024, 0, True),
        ("peak RSS (VmHWM), MiB", lambda r: r["rss"]["hwm_kib"] / 1024, 0, True),
        ("warm-up CPU-s (first %d intervals: series creation)" % options.warmup_intervals, lambda r: r["warmup_cpu_seconds"], 1, True),
        ("fixture CPU-s in the window", lambda r: r["fixture_cpu_seconds"], 2, False),
    ])


def print_many(results, options, info):
    print("\n## 2. Many targets: %d targets x %d samples (%s), every %d s for %g min" % (
        options.many_targets, info["many_per_target"], options.format, options.many_interval, options.many_minutes))
    print()
    table(results, [
        ("**every target scraped every interval**", lambda r: "yes" if r["all_scraped"] else "NO", 0, False),
        ("targets with samples", lambda r: r["targets_seen"], 0, False),
        ("scrapes in the window / expected", lambda r: "%d / %d" % (r["scrapes"], r["expected_scrapes"]), 0, False),
        ("count_over_time(up) per target (min..max; expected %d)" % (int(options.many_minutes * 60 // options.many_interval)),
         lambda r: "%d..%d" % (r["count_min"], r["count_max"]), 0, False),
        ("**missed intervals** (all targets)", lambda r: r["missed_intervals"], 0, False),
        ("targets with a missed interval", lambda r: r["targets_with_missed"], 0, False),
        ("largest gap between two scrapes of a target, s", lambda r: r["max_gap_s"], 2, True),
        ("failed scrapes (up == 0)", lambda r: r["failed_scrapes"], 0, False),
        ("samples scraped / expected", lambda r: "%d / %d" % (r["samples_scraped"], r["samples_expected"]), 0, False),
        ("scrape_duration_seconds max", lambda r: r["duration_max"], 4, True),
        ("scrape_duration_seconds avg", lambda r: r["duration_avg"], 4, True),
        ("**server CPU, % of one core**", lambda r: r["cpu_percent"], 1, True),
        ("server CPU-s per 1M scraped samples", lambda r: r["cpu_seconds"] / (r["samples_scraped"] / 1e6), 3, True),
        ("RSS at the end, MiB", lambda r: r["rss"]["rss_kib"] / 1024, 0, True),
        ("fixture requests served in the window", lambda r: r["fixture_requests"], 0, False),
        ("fixture CPU-s in the window", lambda r: r["fixture_cpu_seconds"], 2, False),
    ])


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--lines", type=int, default=100_000, help="samples per target in the ingest phase (about)")
    parser.add_argument("--targets", type=int, default=5)
    parser.add_argument("--interval", type=int, default=5)
    parser.add_argument("--minutes", type=float, default=3)
    parser.add_argument("--warmup-intervals", type=int, default=2)
    parser.add_argument("--format", choices=sorted(CONTENT_TYPES), default="text")
    parser.add_argument("--variants", type=int, default=4, help="bodies with different values")
    parser.add_argument("--change-every", type=int, default=1, help="scrapes of a target before its next variant (0: never)")
    parser.add_argument("--gzip", action="store_true", help="serve gzip to clients that accept it")
    parser.add_argument("--many-targets", type=int, default=1000)
    parser.add_argument("--many-series", type=int, default=150)
    parser.add_argument("--many-interval", type=int, default=15)
    parser.add_argument("--many-minutes", type=float, default=3)
    parser.add_argument("--phases", default="ingest,many")
    parser.add_argument("--only", action="append", help="comma-separated: osprey,prometheus")
    parser.add_argument("--osprey-bin", default=DEFAULT_OSPREY)
    parser.add_argument("--perf-seconds", type=int, default=15, help="perf record on osprey after its ingest window (0: off)")
    parser.add_argument("--json", metavar="FILE")
    parser.add_argument("--keep", action="store_true")
    options = parser.parse_args()
    only = parse_only(options.only)
    systems = [s for s in ORDER if not only or s in only]
    phases = [p.strip() for p in options.phases.split(",") if p.strip()]
    if "osprey" in systems and not os.path.exists(options.osprey_bin):
        parser.error("no Osprey binary at %s" % options.osprey_bin)
    if options.perf_seconds and not shutil.which("perf"):
        options.perf_seconds = 0

    started = time.time()
    binary = os.path.join(HERE, "scrapefixture")
    subprocess.run(["cc", "-O2", "-o", binary, os.path.join(HERE, "scrapefixture.c")], check=True)
    workdir = tempfile.mkdtemp(prefix="osprey-scrape-bench-")
    info = {}
    wall = {}
    results = {"ingest": [], "many": []}
    try:
        g = time.time()
        fams = build_families(options.lines)
        bodies = write_bodies(workdir, "ingest", fams, options.variants, options.format, options.gzip)
        info["per_target"] = sum(len(f.samples) for f in fams)
        info["cpu_family_series"] = next(len(f.samples) for f in fams if f.name == "node_cpu_seconds")
        info["lines"] = sum(1 for _ in open(bodies[0], "rb"))
        info["families"] = len(fams)
        info["body_bytes"] = os.path.getsize(bodies[0])
        info["gzip_bytes"] = os.path.getsize(bodies[0] + ".gz") if options.gzip else 0
        small = small_families(options.many_series)
        many_bodies = write_bodies(workdir, "many", small, options.variants, options.format, options.gzip)
        info["many_per_target"] = sum(len(f.samples) for f in small)
        wall["generate bodies"] = time.time() - g
        log("bodies: ingest %d samples, %d lines, %d families, %.2f MiB; many %d samples (%.1f s)" % (
            info["per_target"], info["lines"], info["families"], info["body_bytes"] / 2**20, info["many_per_target"], wall["generate bodies"]))

        print("Scrape benchmark, %s" % time.strftime("%Y-%m-%d %H:%M:%S"))
        print("Versions: %s" % versions(options))
        print("Machine: %d CPUs; servers run one after the other (%s), each with an empty data directory; fixture: "
              "bench/compare/scrapefixture (epoll, one thread, one port per target, keep-alive)" % (os.cpu_count(), ", ".join(systems)))
        print("Options: %s" % " ".join("--%s=%s" % (k.replace("_", "-"), v) for k, v in sorted(vars(options).items())
                                       if k not in ("json", "only")))

        if "ingest" in phases:
            p = time.time()
            fixture = Fixture(binary, options.targets, options.format, options.change_every, options.gzip, bodies)
            try:
                config_text = scrape_config("ingest", fixture.ports, options.interval)
                print("\nIngest phase config (the same file for both servers):\n" + config_summary(config_text, options.targets))
                sys.stdout.flush()
                for name in systems:
                    s = time.time()
                    results["ingest"].append(run_ingest(name, options, workdir, fixture, config_text, info["per_target"], info["cpu_family_series"]))
                    wall["ingest " + name] = time.time() - s
            finally:
                fixture.stop()
            wall["ingest phase"] = time.time() - p
        if "many" in phases:
            p = time.time()
            fixture = Fixture(binary, options.many_targets, options.format, options.change_every, options.gzip, many_bodies)
            try:
                config_text = scrape_config("many", fixture.ports, options.many_interval)
                print("\nMany-targets phase config (the same file for both servers):\n" + config_summary(config_text))
                sys.stdout.flush()
                for name in systems:
                    s = time.time()
                    results["many"].append(run_many(name, options, workdir, fixture, config_text, info["many_per_target"]))
                    wall["many " + name] = time.time() - s
            finally:
                fixture.stop()
            wall["many phase"] = time.time() - p
    finally:
        if options.keep:
            log("work directory kept: %s" % workdir)
        else:
            shutil.rmtree(workdir, ignore_errors=True)

    if results["ingest"]:
        print_ingest(results["ingest"], options, info)
    if results["many"]:
        print_many(results["many"], options, info)
    for r in results["ingest"]:
        if isinstance(r.get("profile"), dict):
            print("\nOsprey profile (perf record -g -F 499, %d s after the ingest window, during the same scraping), self time by symbol:" % options.perf_seconds)
            print("\n".join("  " + line for line in r["profile"]["self"]))
            print("Inclusive (children) time by symbol:")
            print("\n".join("  " + line for line in r["profile"]["children"]))
        elif r.get("profile"):
            print("\nOsprey profile: %s" % r["profile"])
    print("\nPhase wall times, s:")
    for key, value in wall.items():
        print("  %s: %.1f" % (key, value))
    for phase in ("ingest", "many"):
        for r in results[phase]:
            print("  %s %s: %s" % (phase, r["server"], ", ".join("%s %.1f" % (k, v) for k, v in r["phases"].items())))
    by = {r["server"]: r for r in results["ingest"]}
    many = {r["server"]: r for r in results["many"]}
    if by or many:
        print("\nTargets:")
    if "osprey" in by and "prometheus" in by and by["osprey"]["cpu_per_million"] and by["prometheus"]["cpu_per_million"]:
        r = by["osprey"]["cpu_per_million"] / by["prometheus"]["cpu_per_million"]
        print("  CPU per scraped sample, osprey/prometheus = %.3f (target < 1): %s" % (r, "met" if r < 1 else "NOT MET"))
    if "osprey" in many:
        o = many["osprey"]
        print("  osprey scraped all %d targets every interval on %d cores (no missed interval): %s" % (
            options.many_targets, os.cpu_count(), "met" if o["all_scraped"] else "NOT MET (%d missed intervals on %d targets)" % (
                o["missed_intervals"], o["targets_with_missed"])))
    print("\ntotal wall time %.0f s" % (time.time() - started))
    if options.json:
        with open(options.json, "w") as f:
            json.dump({"options": vars(options), "info": info, "wall": wall, "results": results}, f, indent=1)


if __name__ == "__main__":
    main()
