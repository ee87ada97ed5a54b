"""A real Prometheus 2.42 (Debian) and Osprey side by side: remote write, remote read, and
each opening the other's data directory after kill -9."""
import os
import subprocess
import shutil
import time

import requests

from conftest import wait_until
from helpers import remote_read, remote_write, series

SELF_SCRAPE = """
global:
  scrape_interval: 1s
  evaluation_interval: 1s
scrape_configs:
  - job_name: prometheus
    static_configs:
      - targets: ["127.0.0.1:$PORT"]
"""


def prom_query(prometheus, query):
    response = requests.get(prometheus.url + "/api/v1/query", params={"query": query}, timeout=30)
    assert response.status_code == 200, response.text
    return response.json()["data"]["result"]


def test_prometheus_remote_writes_into_osprey(start_osprey, start_prometheus):
    osprey = start_osprey()
    start_prometheus(SELF_SCRAPE + """
remote_write:
  - url: "%s/api/v1/write"
    queue_config:
      batch_send_deadline: 1s
""" % osprey.url)
    wait_until(lambda: series(osprey.url, 'up{job="prometheus"}'), timeout=90, what="remote-written series in Osprey")
    found = series(osprey.url, "prometheus_build_info")
    assert found and found[0]["job"] == "prometheus"
    names = requests.get(osprey.url + "/api/v1/label/__name__/values").json()["data"]
    assert len(names) > 100


def test_prometheus_reads_osprey_through_remote_read(start_osprey, start_prometheus):
    osprey = start_osprey()
    now = int(time.time() * 1000)
    samples = [(now - 60_000 + i * 15_000, float(i * 10)) for i in range(4)]
    assert remote_write(osprey.url, [({"__name__": "only_in_osprey", "source": "osprey"}, samples)]).status_code == 204
    prometheus = start_prometheus("""
global:
  scrape_interval: 1h
remote_read:
  - url: "%s/api/v1/read"
    read_recent: true
""" % osprey.url)
    result = prom_query(prometheus, "only_in_osprey[5m]")
    assert len(result) == 1
    assert result[0]["metric"] == {"__name__": "only_in_osprey", "source": "osprey"}
    assert [(round(float(t) * 1000), float(v)) for t, v in result[0]["values"]] == samples


def test_osprey_serves_a_prometheus_data_directory(start_osprey, start_prometheus, workdir):
    data_dir = os.path.join(workdir, "from-prometheus")
    prometheus = start_prometheus(SELF_SCRAPE, data_dir=data_dir)
    wait_until(lambda: len(prom_query(prometheus, "up[1m]")[0]["values"]) >= 5, timeout=60, what="Prometheus samples")
    expected = prom_query(prometheus, 'up{job="prometheus"}[1h]')[0]["values"]
    prometheus.kill9()

    osprey = start_osprey(data_dir=data_dir)
    read = remote_read(osprey.url, 0, int(time.time() * 1000) + 60_000, [(0, "__name__", "up")])
    assert len(read) == 1
    stored = {t: bits for t, bits in list(read.values())[0]}
    for t, v in expected:
        ms = round(float(t) * 1000)
        assert ms in stored, "sample at %d missing" % ms
    assert series(osprey.url, "prometheus_build_info")
    assert "WAL replay" in osprey.log()


def test_prometheus_serves_an_osprey_data_directory_after_kill9(start_osprey, start_prometheus, workdir):
    data_dir = os.path.join(workdir, "from-osprey")
    osprey = start_osprey(data_dir=data_dir)
    now = int(time.time() * 1000)
    written = {}
    for batch in range(30):
        series_batch = []
        for s in range(10):
            t = now - 600_000 + batch * 15_000
            labels = {"__name__": "migrated", "instance": "host-%d" % s}
            series_batch.append((labels, [(t, float(batch * s))]))
            written.setdefault("host-%d" % s, []).append((t, float(batch * s)))
        assert remote_write(osprey.url, series_batch).status_code == 204
    osprey.kill9()
    copy = os.path.join(workdir, "osprey-copy")
    shutil.copytree(data_dir, copy)

    prometheus = start_prometheus("global:\n  scrape_interval: 1h\n", data_dir=copy)
    result = prom_query(prometheus, "migrated[1h]")
    got = {r["metric"]["instance"]: [(round(float(t) * 1000), float(v)) for t, v in r["values"]] for r in result}
    assert got == written


def query_range(server, query, start, end, step):
    response = requests.get(server.url + "/api/v1/query_range",
                            params={"query": query, "start": start, "end": end, "step": step}, timeout=30)
    assert response.status_code == 200, response.text
    return {tuple(sorted(r["metric"].items())): r["values"] for r in response.json()["data"]["result"]}


def test_osprey_serves_the_blocks_and_head_of_a_prometheus_data_directory(start_osprey, start_prometheus, workdir):
    data_dir = os.path.join(workdir, "prometheus-with-blocks")
    os.makedirs(data_dir)
    # Blocks written by Prometheus' own code: promtool's OpenMetrics backfill, 6 h to 1 h ago.
    now = int(time.time())
    start = now - 6 * 3600 - now % 60
    lines = ["# TYPE backfilled_total counter"]
    for instance in range(5):
        for step in range(0, 5 * 3600, 30):
            lines.append('backfilled_total{instance="i%d"} %d %d' % (instance, step * (instance + 1), start + step))
    lines.append("# EOF")
    backfill = os.path.join(workdir, "backfill.om")
    with open(backfill, "w") as f:
        f.write("\n".join(lines) + "\n")
    subprocess.run(["promtool", "tsdb", "create-blocks-from", "openmetrics", backfill, data_dir], check=True, capture_output=True)
    # And a head: Prometheus scraping itself into the same directory.
    prometheus = start_prometheus(SELF_SCRAPE, data_dir=data_dir)
    wait_until(lambda: len(prom_query(prometheus, "up[1m]")[0]["values"]) >= 5, timeout=60, what="Prometheus samples")
    end = int(time.time())
    expected_blocks = query_range(prometheus, "backfilled_total", start, start + 5 * 3600, 60)
    expected_head = query_range(prometheus, 'up{job="prometheus"}', end - 60, end, 1)
    assert len(expected_blocks) == 5 and all(len(v) >= 300 for v in expected_blocks.values())
    prometheus.kill9()

    osprey = start_osprey(data_dir=data_dir)
    assert query_range(osprey, "backfilled_total", start, start + 5 * 3600, 60) == expected_blocks
    got_head = query_range(osprey, 'up{job="prometheus"}', end - 60, end, 1)
    assert got_head == expected_head
