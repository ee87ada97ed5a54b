"""The TSDB admin API (`/api/v1/admin/tsdb/*`): refused unless enabled; deletion answers as a
real Prometheus 2.42 does on the same data (blocks and head), except that fully deleted series
are no longer listed; snapshots are read by promtool."""
import os
import shutil
import subprocess
import time

import requests

from helpers import remote_write, series

ADMIN = "/api/v1/admin/tsdb/"


def raw_samples(url, at_s):
    response = requests.get(url + "/api/v1/query", params={"query": "deleted_demo[4h]", "time": at_s}, timeout=30)
    assert response.status_code == 200, response.text
    return {r["metric"]["instance"]: [(float(t), float(v)) for t, v in r["values"]] for r in response.json()["data"]["result"]}


def test_admin_endpoints_are_refused_unless_enabled(start_osprey):
    osprey = start_osprey()
    for endpoint in ("delete_series", "clean_tombstones", "snapshot"):
        for method in (requests.post, requests.put):
            response = method(osprey.url + ADMIN + endpoint, params={"match[]": "up"}, timeout=30)
            assert response.status_code == 403, response.text
            body = response.json()
            assert body["status"] == "error" and body["errorType"] == "unavailable"
            assert "--web.enable-admin-api" in body["error"]


def test_deletion_matches_prometheus_and_snapshots_are_dumped_by_promtool(start_osprey, start_prometheus, workdir):
    # Two hours of three series in a block that promtool backfilled, then 30 minutes in the head.
    now = int(time.time())
    base = now - now % 7200 - 3 * 3600
    lines = ["# TYPE deleted_demo gauge"]
    for t in range(base, base + 7200, 60):
        for s in range(3):
            lines.append('deleted_demo{instance="h%d"} %d %d' % (s, (t - base) // 60 * (s + 1), t))
    lines.append("# EOF")
    source = os.path.join(workdir, "backfill.om")
    with open(source, "w") as f:
        f.write("\n".join(lines) + "\n")
    seed = os.path.join(workdir, "seed")
    subprocess.run(["promtool", "tsdb", "create-blocks-from", "openmetrics", source, seed], check=True, capture_output=True)
    osprey_dir, prometheus_dir = os.path.join(workdir, "osprey"), os.path.join(workdir, "prometheus")
    shutil.copytree(seed, osprey_dir)
    shutil.copytree(seed, prometheus_dir)
    osprey = start_osprey(data_dir=osprey_dir, extra=["--web.enable-admin-api"])
    prometheus = start_prometheus("global:\n  scrape_interval: 1h\n", data_dir=prometheus_dir,
                                  extra=["--web.enable-admin-api", "--web.enable-remote-write-receiver"])
    head = [({"__name__": "deleted_demo", "instance": "h%d" % s},
             [(t * 1000, float(1000 + (t - base) // 60 * (s + 1))) for t in range(base + 7200, base + 9000, 60)]) for s in range(3)]
    for server in (osprey, prometheus):
        assert remote_write(server.url, head).status_code == 204
    end = base + 9000
    assert raw_samples(osprey.url, end) == raw_samples(prometheus.url, end)

    # h0 entirely; h1 from the block's second hour into the head.
    for server in (osprey, prometheus):
        response = requests.post(server.url + ADMIN + "delete_series", data={"match[]": 'deleted_demo{instance="h0"}'}, timeout=30)
        assert response.status_code == 204, response.text
        response = requests.put(server.url + ADMIN + "delete_series", params={
            "match[]": 'deleted_demo{instance="h1"}', "start": base + 3600, "end": base + 7800}, timeout=30)
        assert response.status_code == 204, response.text
    after = raw_samples(osprey.url, end)
    assert after == raw_samples(prometheus.url, end)
    assert sorted(after) == ["h1", "h2"] and len(after["h1"]) == 60 + 19 and len(after["h2"]) == 150
    # Prometheus keeps listing the fully deleted h0; Osprey does not.
    assert sorted(s["instance"] for s in series(osprey.url, "deleted_demo")) == ["h1", "h2"]
    assert sorted(s["instance"] for s in series(prometheus.url, "deleted_demo")) == ["h0", "h1", "h2"]
    labels = requests.get(osprey.url + "/api/v1/label/instance/values", timeout=30).json()["data"]
    assert labels == ["h1", "h2"]
    # Bad input is a 400 with Prometheus' error body.
    response = requests.post(osprey.url + ADMIN + "delete_series", timeout=30)
    assert response.status_code == 400 and response.json()["errorType"] == "bad_data"
    response = requests.post(osprey.url + ADMIN + "snapshot", params={"skip_head": "maybe"}, timeout=30)
    assert response.status_code == 400 and response.json()["errorType"] == "bad_data"

    # Cleaning rewrites the block without the deleted data; answers do not change.
    for server in (osprey, prometheus):
        assert requests.post(server.url + ADMIN + "clean_tombstones", timeout=30).status_code == 204
    assert raw_samples(osprey.url, end) == after == raw_samples(prometheus.url, end)

    # A snapshot with the head: promtool dumps exactly what Osprey answers.
    response = requests.post(osprey.url + ADMIN + "snapshot", timeout=30)
    assert response.status_code == 200, response.text
    name = response.json()["data"]["name"]
    snapshot = os.path.join(osprey_dir, "snapshots", name)
    dump = subprocess.run(["promtool", "tsdb", "dump", snapshot], check=True, capture_output=True, text=True).stdout
    dumped = {}
    for line in dump.splitlines():
        metric, value, timestamp = line.rsplit(" ", 2)
        instance = metric.split('instance="')[1].split('"')[0]
        dumped.setdefault(instance, []).append((int(timestamp) / 1000, float(value)))
    assert {k: sorted(v) for k, v in dumped.items()} == after

    # The deletions survive a restart.
    osprey.stop()
    restarted = start_osprey(data_dir=osprey_dir)
    assert raw_samples(restarted.url, end) == after
