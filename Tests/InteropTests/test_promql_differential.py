"""Differential PromQL test: the same samples in a real Prometheus (Debian's 2.42) and in the
system under test, every query of `promql_differential_queries.txt` asked of both through
`/api/v1/query` (at three times) and `/api/v1/query_range` (one of two ranges), results compared.

The system under test is Osprey unless `PROMQL_DIFF_SUT=prometheus`, which compares Prometheus
with a second Prometheus: that validates the harness and the corpus without an Osprey binary.

    PROMQL_DIFF_SUT=prometheus python3 -m pytest -q Tests/InteropTests/test_promql_differential.py

Compared: the status; for errors only the `errorType`; the result type; the set of label sets
(no duplicates allowed); per series the timestamps (ms) and values (relative 1e-9, absolute
1e-12 near zero, NaN equals NaN, infinities exact); the order of values for instant queries whose
outermost call is `sort`, `sort_desc`, or an ungrouped `topk`/`bottomk`. Every mismatch is
reported in one assertion at the end.

Data: deterministic (seeded) synthetic series over 2.5 hours from 2023-12-31T22:30:00Z (so the
time functions cross a day, month and year boundary): counters (two with a reset, one target that
appears and disappears), gauges (partly negative, in (-1, 1), large, 0/1, small integers), an
info metric, and classic histograms (`_bucket` with `le`, `_sum`, `_count`). Each target is
"scraped" every 15 s with its own millisecond offset plus jitter; all series of one target share
the scrape timestamps, as when Prometheus scrapes. The samples are remote-written to both servers
in time order (10-minute slices, so Prometheus 2.42's head never sees a sample more than an hour
older than its newest).

Where Prometheus 2.42 and Prometheus 3 differ we follow 3; these queries avoid or normalise the
difference:

1. Range selector windows and the lookback window are left-open in 3 (`(t-r, t]`, #13904) and
   closed in 2.42 (`[t-r, t]`); subquery windows likewise (#15431). Every evaluation time (instant
   times, range starts with whole-second steps, `@` timestamps, offsets and ranges in whole
   seconds) ends in .537 s, subquery steps fall on whole seconds, and no sample timestamp ends in
   .000 or .537 s (asserted), so no sample and no subquery step sits on a left edge. The one
   nested subquery uses an inner range (4m30s) that is not a multiple of its inner step.
2. `holt_winters` is `double_exponential_smoothing` (behind a feature flag) in 3: left out, as are
   functions 2.42 lacks (`mad_over_time`, `sort_by_label`, `limitk`, `first_over_time`, `info`,
   duration expressions, `1_000` literals, durations used as numbers).
3. Regex `.` matches a newline in 3: no label value contains a newline.
4. 3 can delay `__name__` removal (feature flag, off by default in 3 and so in Osprey): no query
   depends on it; in particular no query drops names in a way that only collides under one of the
   two behaviours (unary minus and label_replace over mixed metric names are avoided).
5. rate()/increase() extrapolation towards the window start differs (#13725, 2.51) when the
   series does not reach back to the window start (first sample more than 1.1 average intervals
   after it) and the counter's extrapolated zero point lies 0.5 to 1.1 average intervals before
   the first sample: 2.42 extrapolates to the zero point, 3 by half an interval. Every counter
   starts far above its increase (>= 2000), so the zero point is always much further away and
   both versions extrapolate alike.
6. 3 scrapes normalise `le`/`quantile` label values ("1" -> "1.0", #15164); remote-written
   series keep theirs. The histograms use already-normalised `le` values (`1.0`, `5.0`, `+Inf`).
7. `predict_linear(v[r] @ t, ...)` in range queries was evaluated with a stale range in 2.42
   (#11708, fixed in 2.51): it is asked only as an instant query (`[instant]`).
8. 3 fails a filter comparison between vectors when a match group is many-to-one before
   filtering (#17668); 2.42 only counted surviving series. Vector comparisons here are one-to-one
   or use group_left/group_right.
9. 3 merges non-overlapping series that collide after label_replace/label_join or unary minus
   (#17703, #17708); 2.42 may fail. Collisions are only provoked where series overlap (an error in
   both), and compared by errorType only.
10. 3 uses Kahan summation in the `sum` and `avg` aggregations (2.54, 2.55) and computes `avg`,
   `avg_over_time`, `stddev` and `stdvar` a little differently (#14413, #14941, #16569); 2.42 sums
   plainly there: values differ in the last bits. The relative tolerance (1e-9) absorbs that;
   stddev/stdvar/avg are asked of gauges whose spread is not tiny next to their mean, and the
   data holds no NaN or infinity (the infinity handling of stddev/stdvar changed in #14941).
11. 3 adds annotations ("infos"/"warnings") where 2.42 has none: warnings are not compared.
12. histogram_quantile ignores numerically insignificant non-monotonic classic buckets since 2.49
   (#13153): all buckets of one histogram share scrape timestamps and start high, so bucket rates
   stay monotonic and the difference cannot show.
13. Equal values make `topk`, `bottomk`, `sort` order engine-dependent: values are random floats
   (no ties), and ordered results are compared by their sequence of values.
14. `topk`/`quantile`/... parameters that vary over a range query (#16404) and NaN parameters
   (#16725) behave differently: every parameter is a literal number.
15. `histogram_fraction` reads classic `le` buckets in 3 (since 3.5, #16095); 2.42 returns nothing
   for float samples. It is asked only of series without `le` (nothing in both); the other
   native-histogram functions of 2.42 (`histogram_count`, `histogram_sum`) ignore floats in both.
16. `atan2` between vectors drops the metric name since 2.46 (#12658); 2.42 keeps it. The
   reference's answers to queries using `atan2` are compared without `__name__`.
"""
import math
import os
import random
import re

import requests

from conftest import wait_until
from helpers import remote_write, series

CORPUS = os.path.join(os.path.dirname(__file__), "promql_differential_queries.txt")
MIN_QUERIES = 220

BASE_MS = 1_704_061_800_000  # 2023-12-31T22:30:00Z
INTERVAL_MS = 15_000
SCRAPES = 600  # 2.5 hours
EDGE_MS = 537  # every evaluation time ends in .537 s; no sample does
INSTANT_TIMES_MS = [BASE_MS + 2_730_537, BASE_MS + 5_430_537, BASE_MS + 7_290_537]
RANGES_MS = [  # (start, end, step)
    (BASE_MS + 1_800_537, BASE_MS + 5_400_537, 60_000),
    (BASE_MS + 6_300_537, BASE_MS + 9_300_537, 15_000),
]
CONFIG = "global:\n  scrape_interval: 1h\n  evaluation_interval: 1m\n"
REL_TOLERANCE = 1e-9
ABS_TOLERANCE = 1e-12


# --- data -------------------------------------------------------------------------------------

TARGETS = [  # job, instance, first scrape, last scrape (inclusive)
    ("api", "api-0", 0, SCRAPES - 1),
    ("api", "api-1", 0, SCRAPES - 1),
    ("api", "api-2", 0, SCRAPES - 1),
    ("api", "api-3", 240, 439),  # appears at 60m, disappears after 110m
    ("worker", "w-0", 0, SCRAPES - 1),
    ("worker", "w-1", 0, SCRAPES - 1),
]
COUNTER_RESETS = {("api-1", "get", "200"): 178, ("w-0", "post", "500"): 484}
BUCKETS = ["0.05", "0.1", "0.25", "0.5", "1.0", "2.5", "5.0", "10.0", "+Inf"]
HISTOGRAM_TARGETS = {"api-0": 0.12, "api-1": 0.3, "api-2": 0.6, "w-0": 1.5}  # median latency
WORKER_IDLE = range(320, 400)  # w-0 observes nothing here: zero-rate windows, NaN quantiles
NODE_INSTANCES = ["api-0", "api-1", "api-2"]


def scrape_times(rng, first, last):
    """Millisecond timestamps of one target's scrapes, never ending in .000 or .537 s."""
    offset = rng.randint(100, 800)
    times = {}
    for i in range(first, last + 1):
        t = BASE_MS + i * INTERVAL_MS + offset + rng.randint(-60, 60)
        if t % 1000 in (0, EDGE_MS):
            t += 1
        times[i] = t
    return times


def generate(seed=20231231):
    """[(labels, [(ts_ms, value)])] sorted by time within each series."""
    rng = random.Random(seed)
    out = []
    times = {inst: scrape_times(rng, first, last) for _, inst, first, last in TARGETS}

    def add(labels, samples):
        out.append((labels, samples))

    for job, inst, first, last in TARGETS:
        ts = times[inst]
        # http_requests_total: float counters starting high, with two resets.
        for method in ("get", "post"):
            for code in ("200", "500"):
                value = rng.uniform(2000, 20000)
                low, high = (1.0, 15.0) if code == "200" else (0.05, 2.0)
                low, high = low * rng.uniform(0.5, 1.5), high * rng.uniform(0.5, 1.5)
                samples = []
                for i in range(first, last + 1):
                    if COUNTER_RESETS.get((inst, method, code)) == i:
                        value = rng.uniform(0.5, 3.0)
                    else:
                        value += rng.uniform(low, high)
                    samples.append((ts[i], value))
                add({"__name__": "http_requests_total", "job": job, "instance": inst,
                     "method": method, "code": code}, samples)
        # memory_usage_bytes: large gauges.
        if inst != "api-3":
            value = rng.uniform(2e8, 4e9)
            samples = []
            for i in range(first, last + 1):
                value = max(1e7, value + rng.gauss(0, 2e6))
                samples.append((ts[i], value))
            add({"__name__": "memory_usage_bytes", "job": job, "instance": inst}, samples)
            add({"__name__": "app_info", "job": job, "instance": inst, "version": "1.%d.%d" % (rng.randint(0, 3), rng.randint(0, 9)),
                 "env": "prod" if job == "api" else "batch", "region": rng.choice(["eu-west-1", "us-east-2"])},
                [(ts[i], 1.0) for i in range(first, last + 1)])
            # service_up: 0/1, w-1 down from 70m to 85m, api-2 down for two scrapes.
            samples = []
            for i in range(first, last + 1):
                down = (inst == "w-1" and 280 <= i < 340) or (inst == "api-2" and i in (150, 151))
                samples.append((ts[i], 0.0 if down else 1.0))
            add({"__name__": "service_up", "job": job, "instance": inst}, samples)

    for inst in NODE_INSTANCES:
        ts = times[inst]
        for zone in ("cpu", "gpu"):
            value = rng.uniform(-15, 35)
            samples = []
            for i in range(SCRAPES):
                value += rng.gauss(0, 0.7)
                samples.append((ts[i], value))
            add({"__name__": "node_temperature_celsius", "job": "node", "instance": inst, "zone": zone}, samples)
        phase, speed = rng.uniform(0, 6.28), rng.uniform(0.01, 0.05)
        add({"__name__": "signal_ratio", "job": "node", "instance": inst},
            [(ts[i], max(-0.99, min(0.99, 0.8 * math.sin(phase + speed * i) + rng.uniform(-0.15, 0.15))))
             for i in range(SCRAPES)])
        version = {"api-0": 3.0, "api-1": 3.0, "api-2": 4.0}[inst]
        add({"__name__": "build_version", "job": "api", "instance": inst},
            [(ts[i], 4.0 if inst == "api-0" and i >= 300 else version) for i in range(SCRAPES)])

    for inst, median in HISTOGRAM_TARGETS.items():
        job = "worker" if inst.startswith("w-") else "api"
        ts = times[inst]
        bounds = [float(b) for b in BUCKETS]
        counts = [0.0] * len(BUCKETS)
        total, count = 0.0, 0.0

        def observe(n):
            nonlocal total, count
            for _ in range(n):
                latency = rng.lognormvariate(math.log(median), 0.9)
                total += latency
                count += 1
                for b, bound in enumerate(bounds):
                    if latency <= bound:
                        counts[b] += 1

        observe(20000)
        buckets = [[] for _ in BUCKETS]
        sums, counts_series = [], []
        for i in range(SCRAPES):
            if not (inst == "w-0" and i in WORKER_IDLE):
                observe(rng.randint(3, 30))
            for b in range(len(BUCKETS)):
                buckets[b].append((ts[i], counts[b]))
            sums.append((ts[i], total))
            counts_series.append((ts[i], count))
        for b, le in enumerate(BUCKETS):
            add({"__name__": "request_duration_seconds_bucket", "job": job, "instance": inst, "le": le}, buckets[b])
        add({"__name__": "request_duration_seconds_sum", "job": job, "instance": inst}, sums)
        add({"__name__": "request_duration_seconds_count", "job": job, "instance": inst}, counts_series)
    return out


def load(server, data):
    """Remote-write `data` in 10-minute slices, oldest first."""
    slice_ms = 600_000
    for start in range(BASE_MS, BASE_MS + SCRAPES * INTERVAL_MS + slice_ms, slice_ms):
        batch = [(labels, [(t, v) for t, v in samples if start <= t < start + slice_ms]) for labels, samples in data]
        batch = [(labels, samples) for labels, samples in batch if samples]
        if batch:
            response = remote_write(server.url, batch)
            assert response.status_code in (200, 204), "remote write to %s: %s %s" % (server.url, response.status_code, response.text)


# --- corpus -------------------------------------------------------------------------------------

def load_corpus():
    """[(query, kinds)] where kinds is a subset of {"instant", "range"}."""
    queries = []
    with open(CORPUS) as f:
        for line in f:
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            kinds = {"instant", "range"}
            for marker in ("instant", "range"):
                if line.startswith("[%s] " % marker):
                    kinds = {marker}
                    line = line[len(marker) + 3:].strip()
            queries.append((line, kinds))
    return queries


def is_ordered(query):
    """Instant results of sort/sort_desc/ungrouped topk/bottomk are ordered by value."""
    match = re.match(r"(sort|sort_desc|topk|bottomk)\s*\(", query)
    if not match:
        return False
    depth, quote = 0, None
    for i in range(match.end() - 1, len(query)):
        c = query[i]
        if quote:
            if c == "\\":
                continue
            if c == quote:
                quote = None
        elif c in "\"'`":
            quote = c
        elif c == "(":
            depth += 1
        elif c == ")":
            depth -= 1
            if depth == 0:
                return i == len(query) - 1
    return False


# --- querying and comparing -----------------------------------------------------------------------

def fmt_time(ms):
    return "%d.%03d" % divmod(ms, 1000)


def normalise_reference(query, body):
    """Applies the documented 2.42 -> 3 differences to the reference's answer (docstring, 16)."""
    if "atan2" in query and body.get("status") == "success" and body["data"]["resultType"] in ("vector", "matrix"):
        for element in body["data"]["result"]:
            element["metric"].pop("__name__", None)
    return body


def ask(session, url, query, kind, when):
    if kind == "instant":
        path, params = "/api/v1/query", {"query": query, "time": fmt_time(when)}
    else:
        start, end, step = when
        path, params = "/api/v1/query_range", {"query": query, "start": fmt_time(start), "end": fmt_time(end),
                                              "step": "%g" % (step / 1000)}
    response = session.get(url + path, params=params, timeout=30)
    try:
        body = response.json()
    except ValueError:
        return {"status": "error", "errorType": "<HTTP %d, not JSON: %r>" % (response.status_code, response.text[:200])}
    if not isinstance(body, dict) or body.get("status") not in ("success", "error"):
        return {"status": "error", "errorType": "<HTTP %d, unexpected body: %r>" % (response.status_code, response.text[:200])}
    return body


def to_ms(t):
    return int(round(float(t) * 1000))


def to_float(v):
    return float(v)  # "NaN", "+Inf", "-Inf" included


def close(a, b):
    if math.isnan(a) or math.isnan(b):
        return math.isnan(a) and math.isnan(b)
    if math.isinf(a) or math.isinf(b):
        return a == b
    diff = abs(a - b)
    return diff <= ABS_TOLERANCE or diff <= REL_TOLERANCE * max(abs(a), abs(b))


def labels_key(metric):
    return tuple(sorted(metric.items()))  # a malformed `metric` raises, reported by the caller


def show(key):
    return "{%s}" % ", ".join('%s="%s"' % kv for kv in key)


def keyed(result, kind):
    """Result list -> {labels: entries}, or an error string on duplicate label sets."""
    out = {}
    for item in result:
        key = labels_key(item["metric"])
        if key in out:
            return None, "duplicate label set %s in %s result" % (show(key), kind)
        out[key] = item
    return out, None


def compare_points(expected, actual):
    """Lists of [t, v] -> first difference or None."""
    e_times = [to_ms(t) for t, _ in expected]
    a_times = [to_ms(t) for t, _ in actual]
    if e_times != a_times:
        missing = sorted(set(e_times) - set(a_times))[:3]
        extra = sorted(set(a_times) - set(e_times))[:3]
        return "timestamps differ (%d vs %d points; missing %s, extra %s)" % (
            len(e_times), len(a_times), [fmt_time(t) for t in missing], [fmt_time(t) for t in extra])
    for (t, ev), (_, av) in zip(expected, actual):
        if not close(to_float(ev), to_float(av)):
            return "at %s: expected %s, got %s" % (fmt_time(to_ms(t)), ev, av)
    return None


def compare(expected, actual, ordered):
    """Two API bodies -> first difference or None. `expected` is Prometheus'."""
    if expected["status"] == "error" or actual["status"] == "error":
        if expected["status"] != actual["status"]:
            if expected["status"] == "error":
                return "expected error %s (%s), got success" % (expected.get("errorType"), expected.get("error"))
            return "expected success, got error %s: %s" % (actual.get("errorType"), actual.get("error"))
        if expected.get("errorType") != actual.get("errorType"):
            return "expected errorType %s, got %s (%s)" % (expected.get("errorType"), actual.get("errorType"), actual.get("error"))
        return None
    e_data, a_data = expected["data"], actual.get("data") or {}
    e_type, a_type = e_data["resultType"], a_data.get("resultType")
    if e_type != a_type:
        return "expected resultType %s, got %s" % (e_type, a_type)
    e_res, a_res = e_data["result"], a_data.get("result")
    if e_type in ("scalar", "string"):
        if not isinstance(a_res, list) or len(a_res) != 2:
            return "malformed %s result %r" % (e_type, a_res)
        if to_ms(e_res[0]) != to_ms(a_res[0]):
            return "timestamp: expected %s, got %s" % (e_res[0], a_res[0])
        if e_type == "string":
            return None if e_res[1] == a_res[1] else "expected %r, got %r" % (e_res[1], a_res[1])
        return None if close(to_float(e_res[1]), to_float(a_res[1])) else "expected %s, got %s" % (e_res[1], a_res[1])
    if not isinstance(a_res, list):
        return "malformed %s result %r" % (e_type, a_res)
    e_map, error = keyed(e_res, "expected")
    if error:
        return error
    a_map, error = keyed(a_res, "actual")
    if error:
        return error
    missing = [k for k in e_map if k not in a_map]
    extra = [k for k in a_map if k not in e_map]
    if missing or extra:
        return "series differ (%d expected, %d got); missing %s; unexpected %s" % (
            len(e_map), len(a_map), ", ".join(show(k) for k in missing[:3]) or "none",
            ", ".join(show(k) for k in extra[:3]) or "none")
    for key, e_item in e_map.items():
        a_item = a_map[key]
        if e_type == "vector":
            difference = compare_points([e_item["value"]], [a_item["value"]])
        else:
            difference = compare_points(e_item["values"], a_item["values"])
        if difference:
            return "%s: %s" % (show(key), difference)
    if ordered and e_type == "vector":
        e_values = [to_float(item["value"][1]) for item in e_res]
        a_values = [to_float(item["value"][1]) for item in a_res]
        if not all(close(e, a) for e, a in zip(e_values, a_values)):
            return "order differs: expected values %s, got %s" % (
                [item["value"][1] for item in e_res][:6], [item["value"][1] for item in a_res][:6])
    return None


def evaluations(corpus):
    """Every (query, kind, when) the test asks."""
    out = []
    for index, (query, kinds) in enumerate(corpus):
        if "instant" in kinds:
            out += [(query, "instant", t) for t in INSTANT_TIMES_MS]
        if "range" in kinds:
            out.append((query, "range", RANGES_MS[index % len(RANGES_MS)]))
    return out


def describe(kind, when):
    if kind == "instant":
        return "instant @%s" % fmt_time(when)
    start, end, step = when
    return "range %s..%s step %gs" % (fmt_time(start), fmt_time(end), step / 1000)


# --- the test -----------------------------------------------------------------------------------

def test_corpus_is_large_and_well_formed():
    corpus = load_corpus()
    assert len(corpus) >= MIN_QUERIES, "corpus has %d queries, want >= %d" % (len(corpus), MIN_QUERIES)
    duplicates = {q for q, _ in corpus if [x for x, _ in corpus].count(q) > 1}
    assert not duplicates, "duplicate queries: %s" % sorted(duplicates)
    for query, _ in corpus:
        assert "holt_winters" not in query and "\n" not in query
        # No @ timestamp on a whole second: it would put window edges on samples' grid.
        for at in re.findall(r"@\s*([0-9.]+)", query):
            assert at.endswith(".537"), query


def test_samples_avoid_window_edges():
    for _, samples in generate():
        for t, _ in samples:
            assert t % 1000 not in (0, EDGE_MS)
    for t in INSTANT_TIMES_MS:
        assert t % 1000 == EDGE_MS
    for start, end, step in RANGES_MS:
        assert start % 1000 == EDGE_MS and end % 1000 == EDGE_MS and step % 1000 == 0


def test_comparison_catches_differences():
    def vector(*samples):
        return {"status": "success", "data": {"resultType": "vector", "result": [
            {"metric": metric, "value": [1704064530.537, value]} for metric, value in samples]}}

    a, b = {"instance": "a"}, {"instance": "b"}
    base = vector((a, "1"), (b, "NaN"))
    assert compare(base, vector((b, "NaN"), (a, "1.0000000000001")), ordered=False) is None
    assert compare(base, vector((a, "1.00001"), (b, "NaN")), ordered=False)
    assert compare(base, vector((a, "1"), (b, "+Inf")), ordered=False)
    assert compare(base, vector((a, "1")), ordered=False)
    assert compare(base, vector((a, "1"), (b, "NaN"), ({"instance": "c"}, "2")), ordered=False)
    assert compare(base, vector((a, "1"), (a, "1"), (b, "NaN")), ordered=False)
    assert compare(vector((a, "2"), (b, "1")), vector((b, "1"), (a, "2")), ordered=False) is None
    assert compare(vector((a, "2"), (b, "1")), vector((b, "1"), (a, "2")), ordered=True)
    assert compare(vector((a, "0")), vector((a, "1e-13")), ordered=False) is None
    error = {"status": "error", "errorType": "bad_data", "error": "x"}
    assert compare(error, dict(error, error="y"), ordered=False) is None
    assert compare(error, dict(error, errorType="execution"), ordered=False)
    assert compare(error, base, ordered=False) and compare(base, error, ordered=False)
    scalar = {"status": "success", "data": {"resultType": "scalar", "result": [1704064530.537, "3"]}}
    assert compare(scalar, vector(({}, "3")), ordered=False)
    matrix = {"status": "success", "data": {"resultType": "matrix", "result": [
        {"metric": a, "values": [[1704064530.537, "1"], [1704064590.537, "2"]]}]}}
    shifted = {"status": "success", "data": {"resultType": "matrix", "result": [
        {"metric": a, "values": [[1704064530.537, "1"], [1704064590.538, "2"]]}]}}
    assert compare(matrix, matrix, ordered=False) is None and compare(matrix, shifted, ordered=False)
    assert is_ordered("sort_desc(rate(x[5m]))") and is_ordered("topk(3, x)")
    assert not is_ordered("topk(3, x) by (job)") and not is_ordered("sort(x) + 1") and not is_ordered("topk by (a) (1, x)")


def start_sut(start_osprey, start_prometheus, workdir):
    kind = os.environ.get("PROMQL_DIFF_SUT", "osprey")
    if kind == "prometheus":
        return "prometheus", start_prometheus(CONFIG, extra=["--web.enable-remote-write-receiver"])
    if kind != "osprey":
        raise ValueError("PROMQL_DIFF_SUT must be osprey or prometheus, not %r" % kind)
    config = os.path.join(workdir, "osprey-differential.yml")
    with open(config, "w") as f:
        f.write(CONFIG)
    return "osprey", start_osprey(extra=["--config.file", config])


def test_promql_matches_prometheus(start_osprey, start_prometheus, workdir):
    corpus = load_corpus()
    assert len(corpus) >= MIN_QUERIES
    data = generate()
    reference = start_prometheus(CONFIG, extra=["--web.enable-remote-write-receiver"])
    sut_name, sut = start_sut(start_osprey, start_prometheus, workdir)

    for server in (reference, sut):
        load(server, data)
    for server in (reference, sut):
        wait_until(lambda: len(series(server.url, '{__name__=~".+"}', start=fmt_time(BASE_MS - 1),
                                      end=fmt_time(BASE_MS + SCRAPES * INTERVAL_MS + 1000))) == len(data),
                   timeout=30, what="%d series in %s" % (len(data), server.url))
    # One clear failure instead of a thousand when the query endpoints are missing altogether.
    for kind, when in (("instant", INSTANT_TIMES_MS[0]), ("range", RANGES_MS[0])):
        probe = ask(requests, sut.url, "1", kind, when)
        assert probe["status"] == "success", "%s cannot answer the %s query `1`: %s" % (sut_name, kind, probe)

    mismatches = []
    asked = non_empty = 0
    with requests.Session() as ref_session, requests.Session() as sut_session:
        for query, kind, when in evaluations(corpus):
            expected = normalise_reference(query, ask(ref_session, reference.url, query, kind, when))
            actual = ask(sut_session, sut.url, query, kind, when)
            asked += 1
            if expected["status"] == "success" and expected["data"]["result"] not in ([], None):
                non_empty += 1
            try:
                difference = compare(expected, actual, kind == "instant" and is_ordered(query))
            except (KeyError, TypeError, ValueError, IndexError, AttributeError) as error:
                difference = "malformed answer (%s: %s): %.300s" % (type(error).__name__, error, actual)
            if difference:
                mismatches.append("%s [%s]: %s" % (query, describe(kind, when), difference))

    # Guard against a vacuous pass (e.g. data that did not arrive): most answers carry data.
    assert non_empty >= 0.75 * asked, "only %d of %d reference answers are non-empty" % (non_empty, asked)
    assert not mismatches, "%d of %d evaluations differ between Prometheus 2.42 and %s:\n%s" % (
        len(mismatches), asked, sut_name, "\n".join(mismatches))
