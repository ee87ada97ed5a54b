"""Fixtures for the interop tests: the osprey binary and real Prometheus processes.

Every server listens on 127.0.0.1 on a port the test picked and is stopped by PID.
"""
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time

import pytest
import requests

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until(predicate, timeout=60.0, interval=0.2, what="condition"):
    deadline = time.monotonic() + timeout
    last_error = None
    while time.monotonic() < deadline:
        try:
            if predicate():
                return
        except Exception as error:  # the server may not listen yet
            last_error = error
        time.sleep(interval)
    raise AssertionError("timed out waiting for %s (last error: %s)" % (what, last_error))


def osprey_binary():
    path = os.environ.get("OSPREY_BIN") or os.path.join(ROOT, ".build", "debug", "osprey")
    if not os.path.exists(path):
        raise RuntimeError("osprey binary not found at %s; run `swift build` first" % path)
    return path


class Server:
    """A process started by a test, stopped by PID."""

    def __init__(self, args, port, log_path, ready_path):
        self.args = args
        self.port = port
        self.log_path = log_path
        self.ready_path = ready_path
        self.process = None

    @property
    def url(self):
        return "http://127.0.0.1:%d" % self.port

    def start(self, timeout=60):
        log = open(self.log_path, "ab")
        self.process = subprocess.Popen(self.args, stdout=log, stderr=subprocess.STDOUT)
        wait_until(self._ready, timeout=timeout, what="%s to be ready" % self.args[0])
        return self

    def _ready(self):
        if self.process.poll() is not None:
            raise AssertionError("%s exited with %s:\n%s" % (self.args[0], self.process.returncode, self.log()))
        return requests.get(self.url + self.ready_path, timeout=2).status_code == 200

    def kill9(self):
        if self.process and self.process.poll() is None:
            os.kill(self.process.pid, signal.SIGKILL)
            self.process.wait()

    def stop(self):
        if self.process and self.process.poll() is None:
            os.kill(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.kill9()

    def log(self):
        with open(self.log_path, "rb") as f:
            return f.read().decode(errors="replace")


@pytest.fixture
def workdir():
    path = tempfile.mkdtemp(prefix="osprey-interop-")
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture
def start_osprey(workdir):
    servers = []

    def start(data_dir=None, extra=(), self_scrape=False):
        # Osprey scrapes itself by default; tests that count series turn it off unless asked.
        port = free_port()
        grpc_port, http_port = free_port(), free_port()
        data_dir = data_dir or os.path.join(workdir, "osprey-data")
        args = [osprey_binary(), "serve", "--storage.path", data_dir,
                "--web.listen-address", "127.0.0.1:%d" % port, "--log.level", "info",
                "--otlp.grpc-address", "127.0.0.1:%d" % grpc_port, "--otlp.http-address", "127.0.0.1:%d" % http_port,
                *([] if self_scrape or any(a.startswith("--scrape.self") for a in extra) else ["--scrape.self=false"]), *extra]
        server = Server(args, port, os.path.join(workdir, "osprey-%d.log" % port), "/-/ready")
        server.otlp_grpc_port = grpc_port
        server.otlp_http_port = http_port
        servers.append(server)
        return server.start()

    yield start
    for server in servers:
        server.stop()


@pytest.fixture
def start_prometheus(workdir):
    binary = shutil.which("prometheus")
    if binary is None:
        raise RuntimeError("prometheus is not installed; run scripts/install-test-deps.sh")
    servers = []

    def start(config_text, data_dir=None, extra=()):
        port = free_port()
        data_dir = data_dir or os.path.join(workdir, "prometheus-data-%d" % port)
        config = os.path.join(workdir, "prometheus-%d.yml" % port)
        with open(config, "w") as f:
            f.write(config_text.replace("$PORT", str(port)))
        args = [binary, "--config.file", config, "--storage.tsdb.path", data_dir,
                "--web.listen-address", "127.0.0.1:%d" % port, *extra]
        server = Server(args, port, os.path.join(workdir, "prometheus-%d.log" % port), "/-/ready")
        servers.append(server)
        return server.start()

    yield start
    for server in servers:
        server.stop()
