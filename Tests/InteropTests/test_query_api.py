"""/api/v1/query, /api/v1/query_range, /api/v1/parse_query and `osprey query` through the
binary: result JSON, Prometheus' parameter errors, limits (timeout, max samples), annotations."""
import subprocess

import requests

from conftest import osprey_binary
from helpers import remote_write

T0 = 1_700_000_000_000  # ms; samples every 15 s from here


def load(osprey):
    series = [
        ({"__name__": "http_requests_total", "job": "api", "code": "200"}, [(T0 + i * 15_000, float(i * 10)) for i in range(41)]),
        ({"__name__": "http_requests_total", "job": "api", "code": "500"}, [(T0 + i * 15_000, float(i)) for i in range(41)]),
        ({"__name__": "temperature", "room": "a"}, [(T0 + i * 15_000, 20.5 + (i % 3)) for i in range(41)]),
    ]
    assert remote_write(osprey.url, series).status_code == 204


def get(osprey, path, **params):
    return requests.get(osprey.url + path, params=params, timeout=30)


def test_instant_query_vector_scalar_string(start_osprey):
    osprey = start_osprey()
    load(osprey)
    at = (T0 + 600_000) / 1000
    body = get(osprey, "/api/v1/query", query="sum by (job) (rate(http_requests_total[5m]))", time=at).json()
    assert body["status"] == "success"
    assert body["data"]["resultType"] == "vector"
    [element] = body["data"]["result"]
    assert element["metric"] == {"job": "api"}
    assert element["value"][0] == 1700000600
    assert abs(float(element["value"][1]) - 11 / 15) < 1e-12

    scalar = get(osprey, "/api/v1/query", query="1/0", time="1700000000.5").json()["data"]
    assert scalar == {"resultType": "scalar", "result": [1700000000.5, "+Inf"]}
    nan = get(osprey, "/api/v1/query", query="0/0", time="2023-11-14T22:13:20Z").json()["data"]
    assert nan["result"] == [1700000000, "NaN"]
    string = get(osprey, "/api/v1/query", query='"hello"', time=at).json()["data"]
    assert string == {"resultType": "string", "result": [1700000600, "hello"]}


def test_exact_timestamp_and_float_formatting(start_osprey):
    osprey = start_osprey()
    response = get(osprey, "/api/v1/query", query="0.1 + 0.2", time="1700000000.05")
    assert response.text == '{"status":"success","data":{"resultType":"scalar","result":[1700000000.050,"0.30000000000000004"]}}'


def test_range_query_matrix_and_post_form(start_osprey):
    osprey = start_osprey()
    load(osprey)
    params = {"query": 'temperature{room="a"}', "start": T0 / 1000, "end": (T0 + 60_000) / 1000, "step": "30s"}
    body = requests.post(osprey.url + "/api/v1/query_range", data=params, timeout=30).json()
    assert body["data"]["resultType"] == "matrix"
    [series] = body["data"]["result"]
    assert series["metric"] == {"__name__": "temperature", "room": "a"}
    assert series["values"] == [[1700000000, "20.5"], [1700000030, "22.5"], [1700000060, "21.5"]]


def test_parameter_errors_match_prometheus(start_osprey):
    osprey = start_osprey()
    cases = [
        ("/api/v1/query", {"query": "sum(up"}, 400, "bad_data", 'invalid parameter "query": 1:7: parse error: unexpected end of input in aggregation'),
        ("/api/v1/query", {"query": "up", "time": "yesterday"}, 400, "bad_data", 'invalid parameter "time": cannot parse "yesterday" to a valid timestamp'),
        ("/api/v1/query", {"query": "up", "timeout": "soon"}, 400, "bad_data", 'invalid parameter "timeout": cannot parse "soon" to a valid duration'),
        ("/api/v1/query_range", {"query": "up", "start": "10", "end": "5", "step": "1"}, 400, "bad_data",
         'invalid parameter "end": end timestamp must not be before start time'),
        ("/api/v1/query_range", {"query": "up", "start": "0", "end": "5", "step": "0"}, 400, "bad_data",
         'invalid parameter "step": zero or negative query resolution step widths are not accepted. Try a positive integer'),
        ("/api/v1/query_range", {"query": "up", "start": "0", "end": "100000", "step": "1"}, 400, "bad_data",
         "exceeded maximum resolution of 11,000 points per timeseries. Try decreasing the query resolution (?step=XX)"),
        ("/api/v1/query_range", {"query": "up[5m]", "start": "0", "end": "5", "step": "1"}, 400, "bad_data",
         'invalid parameter "query": invalid expression type "range vector" for range query, must be Scalar or instant Vector'),
        ("/api/v1/query_range", {"query": "up", "end": "5", "step": "1"}, 400, "bad_data",
         'invalid parameter "start": cannot parse "" to a valid timestamp'),
    ]
    for path, params, status, error_type, message in cases:
        response = get(osprey, path, **params)
        assert response.status_code == status, (params, response.text)
        body = response.json()
        assert body["status"] == "error" and body["errorType"] == error_type, body
        assert body["error"].startswith(message), (body["error"], message)


def test_execution_errors_are_422(start_osprey):
    osprey = start_osprey()
    assert remote_write(osprey.url, [
        ({"__name__": "a", "x": "1"}, [(T0, 1.0)]), ({"__name__": "a", "x": "2"}, [(T0, 2.0)]),
        ({"__name__": "b", "y": "1"}, [(T0, 1.0)]),
    ]).status_code == 204
    response = get(osprey, "/api/v1/query", query="b + on() a", time=T0 / 1000)
    assert response.status_code == 422
    body = response.json()
    assert body["errorType"] == "execution"
    assert "many-to-many matching not allowed" in body["error"]


def test_limits_timeout_and_max_samples(start_osprey):
    osprey = start_osprey(extra=["--query.max-samples", "50"])
    load(osprey)
    at = (T0 + 600_000) / 1000
    response = get(osprey, "/api/v1/query", query="http_requests_total[10m]", time=at)
    assert response.status_code == 422, response.text
    assert response.json() == {"status": "error", "errorType": "execution",
                               "error": "query processing would load too many samples into memory in query execution"}
    # A small query still works afterwards.
    assert get(osprey, "/api/v1/query", query="temperature", time=at).json()["status"] == "success"
    # Range functions hold one series' range at a time, as in Prometheus: 2 x 40 samples read
    # under a limit of 50 (instant and range queries, plain and aggregated).
    body = get(osprey, "/api/v1/query", query="sum(count_over_time(http_requests_total[10m]))", time=at).json()
    assert body["status"] == "success" and body["data"]["result"][0]["value"][1] == "80", body
    body = get(osprey, "/api/v1/query", query="count_over_time(http_requests_total[10m])", time=at).json()
    assert body["status"] == "success" and len(body["data"]["result"]) == 2, body
    body = get(osprey, "/api/v1/query_range", query="sum(count_over_time(http_requests_total[10m]))", start=at - 60, end=at, step="30").json()
    assert body["status"] == "success", body
    # A timeout no evaluation can meet.
    response = get(osprey, "/api/v1/query_range", query="count_over_time(temperature[1h:1ms])",
                   start=T0 / 1000, end=(T0 + 600_000) / 1000, step="60", timeout="0.001")
    assert response.status_code == 503, response.text
    assert response.json()["errorType"] == "timeout"
    assert response.json()["error"] == "query timed out in expression evaluation"


def test_lookback_delta_limit_and_stats(start_osprey):
    osprey = start_osprey()
    load(osprey)
    after = (T0 + 600_000 + 120_000) / 1000  # two minutes after the last sample
    assert len(get(osprey, "/api/v1/query", query="temperature", time=after).json()["data"]["result"]) == 1
    assert get(osprey, "/api/v1/query", query="temperature", time=after, lookback_delta="1m").json()["data"]["result"] == []
    limited = get(osprey, "/api/v1/query", query="http_requests_total", time=after, limit="1").json()
    assert len(limited["data"]["result"]) == 1
    assert limited["warnings"] == ["results truncated due to limit"]
    stats = get(osprey, "/api/v1/query", query="http_requests_total", time=after, stats="all").json()["data"]["stats"]
    assert stats["samples"]["totalQueryableSamples"] > 0
    assert set(stats["timings"]) >= {"evalTotalTime", "execTotalTime"}


def test_annotations_in_envelope(start_osprey):
    osprey = start_osprey()
    load(osprey)
    body = get(osprey, "/api/v1/query_range", query="sort(temperature)", start=T0 / 1000, end=(T0 + 60_000) / 1000, step="30").json()
    assert body["warnings"] == ["PromQL warning: sort is ineffective for range queries since results are always ordered by labels (1:1)"]


def test_parse_and_format_query(start_osprey):
    osprey = start_osprey()
    tree = get(osprey, "/api/v1/parse_query", query='sum by (job) (rate(x{a="b"}[5m]))').json()["data"]
    assert tree["type"] == "aggregation" and tree["op"] == "sum" and tree["grouping"] == ["job"]
    selector = tree["expr"]["args"][0]
    assert selector["type"] == "matrixSelector" and selector["range"] == 300000
    assert {"name": "a", "type": "=", "value": "b"} in selector["matchers"]
    assert get(osprey, "/api/v1/format_query", query="sum(x)by(job)").json()["data"] == "sum by (job) (x)"


def test_osprey_query_command(start_osprey):
    osprey = start_osprey()
    load(osprey)
    at = str((T0 + 600_000) / 1000)
    out = subprocess.run([osprey_binary(), "query", "--server", osprey.url, "--time", at, 'temperature{room="a"}'],
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout == 'temperature{room="a"} => 21.5 @[1700000600.000]\n'
    out = subprocess.run([osprey_binary(), "query", "--server", osprey.url, "sum(temperature"],
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 1
    assert "bad_data" in out.stderr and "parse error" in out.stderr


def test_query_is_canceled_when_the_client_hangs_up(start_osprey):
    # One query slot and no effective timeout: the follow-up query can only be answered if the
    # abandoned query (hours of work at 1 ms resolution) was canceled when its client left.
    osprey = start_osprey(extra=["--query.max-concurrency", "1", "--query.timeout", "1h"])
    assert remote_write(osprey.url, [({"__name__": "t"}, [(T0 + i * 15_000, float(i)) for i in range(300)])]).status_code == 204
    heavy = {"query": "count_over_time(t[6h:1ms])", "start": (T0 + 3_600_000) / 1000, "end": (T0 + 4_400_000) / 1000, "step": 60}
    try:
        requests.get(osprey.url + "/api/v1/query_range", params=heavy, timeout=1.5)
        raise AssertionError("the heavy query should not finish")
    except requests.exceptions.ReadTimeout:
        pass
    body = requests.get(osprey.url + "/api/v1/query", params={"query": "t", "time": (T0 + 60_000) / 1000}, timeout=60).json()
    assert body["status"] == "success" and len(body["data"]["result"]) == 1
