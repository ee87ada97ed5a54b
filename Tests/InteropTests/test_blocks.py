"""Osprey persists its head as Prometheus-format blocks: a real Prometheus 2.42 and Debian's
promtool read them, also after Osprey is killed with SIGKILL right after persisting."""
import os
import shutil
import subprocess
import time

import requests

from conftest import wait_until
from helpers import remote_write

HOUR_MS = 3_600_000


def is_block(name):
    return len(name) == 26 and name.isalnum()


def test_osprey_blocks_are_served_by_prometheus_and_dumped_by_promtool(start_osprey, start_prometheus, workdir):
    data_dir = os.path.join(workdir, "osprey-blocks")
    osprey = start_osprey(data_dir=data_dir)
    # 4 h 20 min of history at 30 s for 8 series, oldest first, as a remote-write sender does.
    now = int(time.time() * 1000)
    start = now - now % (2 * HOUR_MS) - 4 * HOUR_MS
    written = {}
    for batch_start in range(start, start + 4 * HOUR_MS + 20 * 60_000, 10 * 60_000):
        batch = []
        for s in range(8):
            labels = {"__name__": "persisted_total", "instance": "host-%d" % s}
            samples = [(t, float((t - start) // 30_000 * (s + 1))) for t in range(batch_start, batch_start + 10 * 60_000, 30_000)]
            batch.append((labels, samples))
            written.setdefault("host-%d" % s, []).extend(samples)
        assert remote_write(osprey.url, batch).status_code == 204
    # The head spans more than 3 h: within a minute its oldest 2 h become a block.
    wait_until(lambda: any(is_block(n) for n in os.listdir(data_dir)), timeout=100, what="a persisted block")
    wait_until(lambda: "persisted a block" in osprey.log(), timeout=30, what="the block in Osprey's log")
    status = requests.get(osprey.url + "/api/v1/status/tsdb/blocks", timeout=30).json()["data"]["blocks"]
    assert [b["ulid"] for b in status] == sorted(n for n in os.listdir(data_dir) if is_block(n))
    assert all(b["stats"]["numSeries"] == 8 and b["maxTime"] - b["minTime"] == 2 * HOUR_MS for b in status)
    osprey.kill9()
    blocks = [n for n in os.listdir(data_dir) if is_block(n)]
    assert blocks and not any(n.endswith(".tmp-for-creation") for n in os.listdir(data_dir))

    # promtool reads the blocks and the checkpointed WAL: every sample, once.
    dump = subprocess.run(["promtool", "tsdb", "dump", data_dir], check=True, capture_output=True, text=True).stdout
    dumped = {}
    for line in dump.splitlines():
        labels, value, timestamp = line.rsplit(" ", 2)
        instance = labels.split('instance="')[1].split('"')[0]
        dumped.setdefault(instance, []).append((int(timestamp), float(value)))
    assert {k: sorted(v) for k, v in dumped.items()} == written

    # A real Prometheus started on a copy serves the same samples, blocks and head.
    copy = os.path.join(workdir, "osprey-copy")
    shutil.copytree(data_dir, copy)
    prometheus = start_prometheus("global:\n  scrape_interval: 1h\n", data_dir=copy)
    response = requests.get(prometheus.url + "/api/v1/query_range", params={
        "query": "persisted_total", "start": start / 1000, "end": (start + 4 * HOUR_MS + 20 * 60_000) / 1000, "step": 30}, timeout=30)
    assert response.status_code == 200, response.text
    got = {r["metric"]["instance"]: r["values"] for r in response.json()["data"]["result"]}
    assert sorted(got) == sorted(written)
    for instance, samples in written.items():
        by_time = {round(float(t) * 1000): float(v) for t, v in got[instance]}
        assert all(by_time.get(t) == v for t, v in samples), instance
