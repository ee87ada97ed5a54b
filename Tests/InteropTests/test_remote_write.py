"""Remote write 1.0/2.0 into Osprey and reading back through the Prometheus HTTP API."""
import math
import time

import requests

import prompb
from helpers import remote_read, remote_write, series


def now_ms():
    return int(time.time() * 1000)


def test_v1_samples_read_back_bit_exact(start_osprey):
    osprey = start_osprey()
    t0 = now_ms() - 60_000
    stale = prompb.struct.unpack("<d", prompb.struct.pack("<Q", 0x7FF0000000000002))[0]
    values = [1.5, -2.0, math.inf, 0.0, stale]
    labels = {"__name__": "rw_test", "job": "interop"}
    response = remote_write(osprey.url, [(labels, [(t0 + i * 1000, v) for i, v in enumerate(values)])])
    assert response.status_code == 204, response.text

    read = remote_read(osprey.url, t0, t0 + 10_000, [(0, "__name__", "rw_test")])
    key = tuple(sorted(labels.items()))
    assert read[key] == [(t0 + i * 1000, prompb.float_bits(v)) for i, v in enumerate(values)]
    assert series(osprey.url, "rw_test") == [labels]


def test_v2_request_reports_written_counts(start_osprey):
    osprey = start_osprey()
    t0 = now_ms()
    response = remote_write(osprey.url, [({"__name__": "rw2", "a": "b"}, [(t0, 1.0), (t0 + 1, 2.0)])], v2=True)
    assert response.status_code == 204, response.text
    assert response.headers["X-Prometheus-Remote-Write-Samples-Written"] == "2"
    assert response.headers["X-Prometheus-Remote-Write-Histograms-Written"] == "0"
    assert series(osprey.url, '{a="b"}') == [{"__name__": "rw2", "a": "b"}]


def test_bad_input_is_rejected_and_nothing_is_applied(start_osprey):
    osprey = start_osprey()
    t0 = now_ms()
    good = ({"__name__": "ok_metric"}, [(t0, 1.0)])
    bad = ({"__name__": "bad metric", "9x": "y"}, [(t0, 1.0)])
    response = requests.post(osprey.url + "/api/v1/write", data=prompb.snappy(prompb.write_request([good, bad])),
                             headers={"Content-Encoding": "snappy", "Content-Type": "application/x-protobuf"})
    # UTF-8 names are valid in Prometheus 3, so this request is accepted; an empty name is not.
    assert response.status_code in (204, 400)
    empty_name = ({"__name__": "x", "": "v"}, [(t0, 1.0)])
    response = requests.post(osprey.url + "/api/v1/write", data=prompb.snappy(prompb.write_request([({"__name__": "never"}, [(t0, 1.0)]), empty_name])),
                             headers={"Content-Encoding": "snappy", "Content-Type": "application/x-protobuf"})
    assert response.status_code == 400
    assert response.text.strip()
    assert series(osprey.url, "never") == []

    for body in (b"not snappy at all", prompb.snappy(b"\xff\xff\xff garbage")):
        response = requests.post(osprey.url + "/api/v1/write", data=body,
                                 headers={"Content-Encoding": "snappy", "Content-Type": "application/x-protobuf"})
        assert response.status_code == 400, response.text
    response = requests.post(osprey.url + "/api/v1/write", data=b"x", headers={"Content-Type": "application/json"})
    assert response.status_code == 415
    assert requests.get(osprey.url + "/-/healthy").status_code == 200


def test_out_of_order_samples_are_counted_and_the_rest_stored(start_osprey):
    osprey = start_osprey()
    t0 = now_ms()
    labels = {"__name__": "ooo"}
    assert remote_write(osprey.url, [(labels, [(t0, 1.0)])]).status_code == 204
    response = remote_write(osprey.url, [(labels, [(t0 - 5000, 0.5), (t0 + 1000, 2.0)])])
    assert response.status_code == 400
    assert "out of order" in response.text
    read = remote_read(osprey.url, t0 - 10_000, t0 + 10_000, [(0, "__name__", "ooo")])
    assert [t for t, _ in read[(("__name__", "ooo"),)]] == [t0, t0 + 1000]


def test_series_and_label_apis_follow_prometheus(start_osprey):
    osprey = start_osprey()
    t0 = now_ms()
    data = [({"__name__": "http_requests_total", "code": c, "job": "api"}, [(t0, 1.0)]) for c in ("200", "404", "500")]
    data.append(({"__name__": "up", "job": "db"}, [(t0, 1.0)]))
    assert remote_write(osprey.url, data).status_code == 204

    assert len(series(osprey.url, '{job="api"}')) == 3
    assert series(osprey.url, 'http_requests_total{code=~"4..|5.."}', limit="1") == [
        {"__name__": "http_requests_total", "code": "404", "job": "api"}]
    labels = requests.get(osprey.url + "/api/v1/labels").json()
    assert labels == {"status": "success", "data": ["__name__", "code", "job"]}
    values = requests.post(osprey.url + "/api/v1/label/job/values", data={"match[]": "up"}).json()
    assert values["data"] == ["db"]
    truncated = requests.get(osprey.url + "/api/v1/label/code/values", params={"limit": "2"}).json()
    assert truncated["data"] == ["200", "404"] and truncated["warnings"] == ["results truncated due to limit"]

    error = requests.get(osprey.url + "/api/v1/series").json()
    assert error == {"status": "error", "errorType": "bad_data", "error": "no match[] parameter provided"}
    error = requests.get(osprey.url + "/api/v1/series", params={"match[]": "up{", "start": "x"})
    assert error.status_code == 400 and error.json()["errorType"] == "bad_data"
    error = requests.get(osprey.url + "/api/v1/series", params={"match[]": "up", "start": "10", "end": "5"})
    assert error.status_code == 400

    tsdb = requests.get(osprey.url + "/api/v1/status/tsdb").json()["data"]
    assert tsdb["headStats"]["numSeries"] == 4
    assert tsdb["seriesCountByMetricName"][0] == {"name": "http_requests_total", "value": 3}
    build = requests.get(osprey.url + "/api/v1/status/buildinfo").json()["data"]
    assert build["version"]
    metrics = requests.get(osprey.url + "/metrics").text
    assert "osprey_tsdb_head_samples_appended_total" in metrics
    assert "osprey_http_requests_total" in metrics


def test_bodies_over_the_limit_are_rejected_with_400(start_osprey):
    osprey = start_osprey(extra=("--web.remote-write.max-body-bytes", "2000"))
    t0 = now_ms()
    big = [({"__name__": "big", "i": str(i), "pad": "x" * 50}, [(t0, 1.0)]) for i in range(200)]
    response = remote_write(osprey.url, big)
    assert response.status_code == 400
    assert "max-body-bytes" in response.text
    assert series(osprey.url, "big") == []
    small = remote_write(osprey.url, [({"__name__": "small"}, [(t0, 1.0)])])
    assert small.status_code == 204


def test_config_errors_name_file_line_and_key(workdir):
    import os
    import subprocess

    from conftest import osprey_binary
    path = os.path.join(workdir, "osprey.yml")
    with open(path, "w") as f:
        f.write("global:\n  scrape_interval: 15s\n  evaluation_intervall: 1m\n")
    result = subprocess.run([osprey_binary(), "serve", "--config.file", path, "--storage.path", os.path.join(workdir, "d"),
                             "--web.listen-address", "127.0.0.1:0"], capture_output=True, text=True, timeout=60)
    assert result.returncode != 0
    assert "%s:3: global.evaluation_intervall: unknown key" % path in result.stderr + result.stdout
    check = subprocess.run([osprey_binary(), "check", "config", path], capture_output=True, text=True, timeout=60)
    assert check.returncode == 1 and "osprey.yml:3" in check.stdout


def test_format_query_returns_the_canonical_expression(start_osprey):
    osprey = start_osprey()
    response = requests.get(osprey.url + "/api/v1/format_query", params={"query": "sum(rate(foo{b='2',a='1'}[5m]))by(job)"})
    assert response.json() == {"status": "success", "data": 'sum by (job) (rate(foo{a="1",b="2"}[5m]))'}
    error = requests.post(osprey.url + "/api/v1/format_query", data={"query": "rate(foo)"})
    assert error.status_code == 400
    assert error.json()["errorType"] == "bad_data"
    assert error.json()["error"].startswith('invalid parameter "query": 1:6: parse error: expected type range vector')
