"""Deterministic "dashboard" data set for bench/compare/query.py.

Per host, two scrape targets, like a small production fleet:

- an application (`job` one of api/checkout/search, `instance` host-NNN:8080):
  `http_requests_total{method,code,handler}` (8 handlers x 5 method/code pairs),
  `http_request_duration_seconds_bucket{handler,le}` (12 buckets) with `_sum` and `_count`,
  `process_cpu_seconds_total`, `process_resident_memory_bytes`, `up`;
- a node exporter (`job="node"`, host-NNN:9100): `node_cpu_seconds_total{cpu,mode}` (4 CPUs x 8
  modes), `node_memory_MemAvailable_bytes`/`MemTotal_bytes`, `node_load1`/`node_load5`,
  `node_network_{receive,transmit}_bytes_total{device}`, `node_filesystem_{avail,size}_bytes`,
  `node_disk_io_time_seconds_total{device}`, `up`.

That is 202 series per host. Traffic follows a daily curve with noise; request counts are
integers, histogram buckets are cumulative and consistent with `_count`; host 1's application
restarts once (a counter reset), and the checkout job has a 5xx incident. Each target scrapes at
its own fixed offset inside the interval, as Prometheus spreads its scrapes, so samples do not sit
on query step boundaries. Every value is a pure function of (seed, hosts, hours, interval), only
the timestamps move with the end time, so every server receives exactly the same samples.
"""
import math
import os
import random
import struct
import sys
from array import array

import cramjam

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "Tests", "InteropTests"))
import prompb  # noqa: E402  (the shared protobuf helpers of the interop tests)

API_JOBS = ("api", "checkout", "search")
HANDLERS = (  # handler, requests/s per instance at the daily mean, median latency (s)
    ("/api/v1/users", 20.0, 0.03), ("/api/v1/orders", 8.0, 0.08), ("/api/v1/items", 15.0, 0.02),
    ("/api/v2/search", 10.0, 0.25), ("/login", 3.0, 0.15), ("/static", 25.0, 0.004),
    ("/healthz", 1.0, 0.001), ("/metrics", 1 / 60.0, 0.01))
METHOD_CODES = ((("GET", "200"), 0.80), (("GET", "404"), 0.05), (("GET", "500"), 0.005),
                (("POST", "201"), 0.14), (("POST", "503"), 0.005))
BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
CPU_MODES = (("user", 0.6), ("system", 0.25), ("iowait", 0.05), ("irq", 0.02), ("softirq", 0.05),
             ("nice", 0.02), ("steal", 0.01))
SERIES_PER_HOST = 202
LATENCY_SIGMA = 0.8


def _field(number, data):
    return prompb._bytes(number, data)


def _le(bound):
    return "+Inf" if bound == math.inf else ("%g" % bound)


class Dataset:
    def __init__(self, series, hours, interval_s, end_s, seed=1):
        self.hosts = max(1, round(series / SERIES_PER_HOST))
        self.hours = hours
        self.interval_s = interval_s
        self.end_s = end_s - end_s % interval_s
        # One extra hour of history so the first points of an `hours`-long range query see full windows.
        self.steps = int(round((hours + 1) * 3600 / interval_s))
        self.first_s = self.end_s - self.steps * interval_s
        self.seed = seed
        self.labels = []   # per series: dict
        self.offsets = []  # per series: ms offset of the target's scrape within the interval
        self.values = []   # per series: array('d') of self.steps values
        for host in range(self.hosts):
            self._application(host)
            self._node(host)

    # --- generation -------------------------------------------------------------------------

    def _add(self, labels, offset_ms, values):
        self.labels.append(labels)
        self.offsets.append(offset_ms)
        self.values.append(array("d", values))

    def _day(self, step, offset_ms, phase):
        t = self.first_s + step * self.interval_s + offset_ms / 1000
        return math.sin(2 * math.pi * t / 86400 + phase)

    def _application(self, host):
        rng = random.Random(self.seed * 1_000_003 + host * 2 + 0)
        job, instance = API_JOBS[host % len(API_JOBS)], "host-%03d:8080" % host
        offset = (host * 7919 + 1234) % (self.interval_s * 1000)
        phase, factor = host * 0.3, 0.5 + rng.random()
        n, iv = self.steps, self.interval_s
        restart = int(n * 0.4) if host == 1 else -1
        incident = (int(n * 0.60), int(n * 0.62)) if job == "checkout" else (-1, -1)
        day = [self._day(k, offset, phase) for k in range(n)]
        base = {"job": job, "instance": instance}

        per_handler_requests = []
        for handler, rate, _ in HANDLERS:
            handler_total = [0] * n
            for (method, code), share in METHOD_CODES:
                values, total = [], 0.0
                for k in range(n):
                    if k == restart:
                        total = 0.0
                    boost = 40.0 if code.startswith("5") and incident[0] <= k < incident[1] else 1.0
                    expected = rate * share * factor * boost * (1 + 0.6 * day[k]) * (0.9 + 0.2 * rng.random()) * iv
                    increment = int(expected) + (1 if rng.random() < expected - int(expected) else 0)
                    handler_total[k] += increment
                    total += increment
                    values.append(total)
                self._add(dict(base, __name__="http_requests_total", handler=handler, method=method, code=code), offset, values)
            per_handler_requests.append(handler_total)

        for (handler, _, median), requests in zip(HANDLERS, per_handler_requests):
            bounds = BUCKETS + (math.inf,)
            buckets = [[0.0] * n for _ in bounds]
            sums, counts = [0.0] * n, [0.0] * n
            cumulative = [0.0] * len(bounds)
            total_sum = total_count = 0.0
            for k in range(n):
                if k == restart:
                    cumulative = [0.0] * len(bounds)
                    total_sum = total_count = 0.0
                m = median * (1 + 0.4 * max(0.0, day[k]))
                r = requests[k]
                for i, bound in enumerate(bounds):
                    if bound == math.inf:
                        inside = r
                    else:
                        inside = round(r * 0.5 * (1 + math.erf((math.log(bound) - math.log(m)) / (LATENCY_SIGMA * math.sqrt(2)))))
                    cumulative[i] += inside
                    buckets[i][k] = cumulative[i]
                total_count += r
                total_sum += r * m * math.exp(LATENCY_SIGMA ** 2 / 2)
                sums[k], counts[k] = round(total_sum, 6), total_count
            for bound, values in zip(bounds, buckets):
                self._add(dict(base, __name__="http_request_duration_seconds_bucket", handler=handler, le=_le(bound)), offset, values)
            self._add(dict(base, __name__="http_request_duration_seconds_sum", handler=handler), offset, sums)
            self._add(dict(base, __name__="http_request_duration_seconds_count", handler=handler), offset, counts)

        cpu, rss, up = [], [], []
        total = 0.0
        for k in range(n):
            if k == restart:
                total = 0.0
            total += iv * factor * (0.1 + 0.2 * (1 + day[k])) * (0.9 + 0.2 * rng.random())
            cpu.append(round(total, 2))
            rss.append(float(int(150e6 * factor + 60e6 * ((k % 90) / 90) + rng.randrange(0, 4 << 20)) & ~4095))
            up.append(0.0 if k == restart else 1.0)
        self._add(dict(base, __name__="process_cpu_seconds_total"), offset, cpu)
        self._add(dict(base, __name__="process_resident_memory_bytes"), offset, rss)
        self._add(dict(base, __name__="up"), offset, up)

    def _node(self, host):
        rng = random.Random(self.seed * 1_000_003 + host * 2 + 1)
        instance = "host-%03d:9100" % host
        offset = (host * 104729 + 40000) % (self.interval_s * 1000)
        phase, factor = host * 0.3 + 0.1, 0.5 + rng.random()
        n, iv = self.steps, self.interval_s
        day = [self._day(k, offset, phase) for k in range(n)]
        base = {"job": "node", "instance": instance}
        cpus = 4
        busy = [[min(0.95, max(0.01, 0.15 + 0.25 * (1 + day[k]) / 2 * factor + rng.gauss(0, 0.04))) for k in range(n)] for _ in range(cpus)]
        for cpu in range(cpus):
            idle, totals = [], {mode: [] for mode, _ in CPU_MODES}
            seconds = {mode: 0.0 for mode, _ in CPU_MODES}
            idle_seconds = 0.0
            for k in range(n):
                u = busy[cpu][k]
                idle_seconds += iv * (1 - u)
                idle.append(round(idle_seconds, 2))
                for mode, share in CPU_MODES:
                    seconds[mode] += iv * u * share
                    totals[mode].append(round(seconds[mode], 2))
            self._add(dict(base, __name__="node_cpu_seconds_total", cpu=str(cpu), mode="idle"), offset, idle)
            for mode, _ in CPU_MODES:
                self._add(dict(base, __name__="node_cpu_seconds_total", cpu=str(cpu), mode=mode), offset, totals[mode])

        mem_total = float((16 if host % 2 == 0 else 32) << 30)
        available = [float(int(mem_total * min(0.9, max(0.05, 0.55 - 0.2 * (1 + day[k]) / 2 + rng.gauss(0, 0.02)))) & ~4095) for k in range(n)]
        self._add(dict(base, __name__="node_memory_MemAvailable_bytes"), offset, available)
        self._add(dict(base, __name__="node_memory_MemTotal_bytes"), offset, [mem_total] * n)

        load1, load5, smooth = [], [], 0.0
        for k in range(n):
            value = max(0.0, sum(busy[c][k] for c in range(cpus)) + rng.gauss(0, 0.1))
            smooth = value if k == 0 else smooth + (value - smooth) * (1 - math.exp(-iv / 300))
            load1.append(round(value, 2))
            load5.append(round(smooth, 2))
        self._add(dict(base, __name__="node_load1"), offset, load1)
        self._add(dict(base, __name__="node_load5"), offset, load5)

        for direction, scale in (("receive", 5e6), ("transmit", 2e6)):
            for device, device_scale in (("eth0", 1.0), ("lo", 0.02)):
                values, total = [], 0.0
                for k in range(n):
                    total += int(iv * scale * device_scale * factor * (1 + 0.6 * day[k]) * (0.8 + 0.4 * rng.random()))
                    values.append(total)
                self._add(dict(base, __name__="node_network_%s_bytes_total" % direction, device=device), offset, values)

        for mountpoint, device, size_gib in (("/", "/dev/sda1", 100), ("/var", "/dev/sdb1", 500)):
            size = float(size_gib << 30)
            free, avail = size * (0.3 + 0.4 * rng.random()), []
            for k in range(n):
                free -= rng.randrange(0, 8 << 20)
                if free < size * 0.15:
                    free = size * 0.6
                avail.append(float(int(free) & ~4095))
            labels = dict(base, device=device, mountpoint=mountpoint, fstype="ext4")
            self._add(dict(labels, __name__="node_filesystem_avail_bytes"), offset, avail)
            self._add(dict(labels, __name__="node_filesystem_size_bytes"), offset, [size] * n)

        for d, device in enumerate(("sda", "sdb")):
            values, total = [], 0.0
            for k in range(n):
                total += iv * busy[d][k] * 0.3 * rng.random()
                values.append(round(total, 3))
            self._add(dict(base, __name__="node_disk_io_time_seconds_total", device=device), offset, values)
        self._add(dict(base, __name__="up"), offset, [1.0] * n)

    # --- what the servers must hold ---------------------------------------------------------

    def timestamp_ms_at(self, offset_ms, step):
        return (self.first_s + step * self.interval_s) * 1000 + offset_ms

    def expected(self):
        """metric name -> (series, samples, exact sum of values)."""
        out = {}
        for labels, values in zip(self.labels, self.values):
            name = labels["__name__"]
            series, samples, parts = out.get(name, (0, 0, []))
            parts.append(math.fsum(values))
            out[name] = (series + 1, samples + len(values), parts)
        return {name: (s, c, math.fsum(parts)) for name, (s, c, parts) in out.items()}

    @property
    def sample_count(self):
        return len(self.labels) * self.steps

    # --- remote-write bodies ----------------------------------------------------------------

    def write_bodies(self, path, samples_per_request=2000, chunk_steps=10):
        """Writes snappy-compressed WriteRequests in loadgen's file format (u32 length, u32
        shard, body), oldest first: chunk_steps consecutive samples of every series, in groups
        of samples_per_request / chunk_steps series, then the next chunk. Returns the request count."""
        label_bytes = []
        for labels in self.labels:
            label_bytes.append(b"".join(_field(1, _field(1, k.encode()) + _field(2, v.encode())) for k, v in sorted(labels.items())))
        group = max(1, samples_per_request // chunk_steps)
        timestamps = {}  # offset -> per step: b"\x10" + varint(timestamp); targets share offsets
        for offset in set(self.offsets):
            timestamps[offset] = [b"\x10" + prompb._varint(self.timestamp_ms_at(offset, k)) for k in range(self.steps)]
        samples = []  # per series, per step: the encoded Sample field
        for s, values in enumerate(self.values):
            raw = struct.pack("<%dd" % self.steps, *values)
            stamps = timestamps[self.offsets[s]]
            samples.append([b"\x12" + prompb._varint(9 + len(stamps[k])) + b"\x09" + raw[8 * k:8 * k + 8] + stamps[k] for k in range(self.steps)])
        requests = 0
        with open(path, "wb") as f:
            for chunk in range(0, self.steps, chunk_steps):
                end = min(self.steps, chunk + chunk_steps)
                for shard, first in enumerate(range(0, len(self.labels), group)):
                    body = b"".join(_field(1, label_bytes[s] + b"".join(samples[s][chunk:end]))
                                    for s in range(first, min(len(self.labels), first + group)))
                    compressed = bytes(cramjam.snappy.compress_raw(body))
                    f.write(struct.pack("<II", len(compressed), shard))
                    f.write(compressed)
                    requests += 1
        return requests
