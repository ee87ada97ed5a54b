"""Shared pieces of the bench/compare harness (run.py, query.py): command lines of the three
servers, starting one on a free loopback port, readiness, /proc accounting, and stopping it by
its own PID.
"""
import json
import os
import signal
import socket
import subprocess
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
DEFAULT_OSPREY = os.path.join(ROOT, ".build", "release", "osprey")
NAMES = ("osprey", "prometheus", "victoriametrics")


def canonical_name(name):
    """'victoria-metrics', 'VictoriaMetrics', 'vm' -> 'victoriametrics'; unknown names raise."""
    key = name.strip().lower().replace("-", "").replace("_", "")
    key = {"vm": "victoriametrics", "prom": "prometheus"}.get(key, key)
    if key not in NAMES:
        raise ValueError("unknown server %r (expected one of %s)" % (name, ", ".join(NAMES)))
    return key


def parse_only(values):
    """--only may be repeated and/or comma-separated; returns a set of canonical names or None."""
    if not values:
        return None
    return {canonical_name(n) for v in values for n in v.split(",") if n.strip()}


def varint(value):
    """A protobuf base-128 varint."""
    out = bytearray()
    while value >= 0x80:
        out.append((value & 0x7F) | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


def length_delimited(number, payload):
    """A length-delimited protobuf field."""
    return varint(number << 3 | 2) + varint(len(payload)) + payload


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def proc_cpu_seconds(pid):
    fields = open("/proc/%d/stat" % pid).read().rsplit(")", 1)[1].split()
    ticks = os.sysconf("SC_CLK_TCK")
    return (int(fields[11]) + int(fields[12])) / ticks


def proc_status_kib(pid, key):
    for line in open("/proc/%d/status" % pid):
        if line.startswith(key + ":"):
            return int(line.split()[1])
    return 0


def wait_ready(url, timeout=120, process=None):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError("server for %s exited with %s before it was ready" % (url, process.returncode))
        try:
            with urllib.request.urlopen(url, timeout=2) as r:
                if r.status == 200:
                    return
        except Exception:
            time.sleep(0.2)
    raise RuntimeError("server at %s not ready" % url)


def wait_idle(pid, threshold=0.05, quiet_seconds=3, timeout=90):
    """Waits until the process uses under `threshold` cores for `quiet_seconds` in a row
    (background compaction / merges done). Returns the seconds waited."""
    start = time.time()
    quiet = 0
    last = proc_cpu_seconds(pid)
    while time.time() - start < timeout and quiet < quiet_seconds:
        time.sleep(1)
        now = proc_cpu_seconds(pid)
        quiet = quiet + 1 if now - last < threshold else 0
        last = now
    return time.time() - start


def http_json(url, data=None):
    with urllib.request.urlopen(url, data=data, timeout=600) as r:
        return json.loads(r.read())


def servers(workdir, port, osprey_bin=None, extra=None):
    """name -> (argv, readiness path). `extra` maps a name to additional flags."""
    extra = extra or {}
    osprey = osprey_bin or DEFAULT_OSPREY
    table = {
        "osprey": ([osprey, "serve", "--storage.path", os.path.join(workdir, "osprey"),
                    "--web.listen-address", "127.0.0.1:%d" % port, "--log.level", "warn",
                    # Prometheus here scrapes nothing; neither does Osprey (its self-scrape would also
                    # move the head to now and refuse the history benchmarks send as out of bounds).
                    "--scrape.self=false",
                    # The OTLP receivers on free ports of their own.
                    "--otlp.grpc-address", "127.0.0.1:%d" % free_port(), "--otlp.http-address", "127.0.0.1:%d" % free_port()], "/-/ready"),
        "prometheus": (["prometheus", "--config.file", os.path.join(workdir, "prom.yml"),
                        "--storage.tsdb.path", os.path.join(workdir, "prometheus"),
                        "--web.listen-address", "127.0.0.1:%d" % port, "--web.enable-remote-write-receiver", "--storage.remote.read-sample-limit=0",
                        "--log.level", "warn"], "/-/ready"),
        "victoriametrics": (["victoria-metrics", "-storageDataPath", os.path.join(workdir, "vm"),
                             "-httpListenAddr", "127.0.0.1:%d" % port, "-retentionPeriod", "100y",
                             "-loggerLevel", "ERROR", "-search.maxUniqueTimeseries", "10000000"], "/health"),
    }
    return {name: (argv + list(extra.get(name, [])), ready) for name, (argv, ready) in table.items()}


def write_prometheus_config(workdir):
    with open(os.path.join(workdir, "prom.yml"), "w") as f:
        f.write("global:\n  scrape_interval: 1h\n")


class Server:
    """One server process on 127.0.0.1:port, output in workdir/NAME.log, killed by its PID."""

    def __init__(self, name, workdir, osprey_bin=None, extra=None):
        self.name = name
        self.port = free_port()
        self.argv, self.ready_path = servers(workdir, self.port, osprey_bin, extra)[name]
        self.url = "http://127.0.0.1:%d" % self.port
        self.log_path = os.path.join(workdir, name + ".log")
        self.process = None

    def start(self, timeout=120):
        log = open(self.log_path, "wb")
        self.process = subprocess.Popen(self.argv, stdout=log, stderr=subprocess.STDOUT)
        log.close()
        try:
            wait_ready(self.url + self.ready_path, timeout, self.process)
        except BaseException:
            self.stop()
            raise
        return self

    @property
    def pid(self):
        return self.process.pid

    def stop(self):
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()
