"""Small clients for Osprey's HTTP APIs used by the interop tests."""
import requests

import prompb

WRITE_HEADERS = {
    "Content-Encoding": "snappy",
    "Content-Type": "application/x-protobuf",
    "X-Prometheus-Remote-Write-Version": "0.1.0",
}
WRITE_V2_HEADERS = {
    "Content-Encoding": "snappy",
    "Content-Type": "application/x-protobuf;proto=io.prometheus.write.v2.Request",
    "X-Prometheus-Remote-Write-Version": "2.0.0",
}


def remote_write(url, series, v2=False):
    body = prompb.write_request_v2(series) if v2 else prompb.write_request(series)
    return requests.post(url + "/api/v1/write", data=prompb.snappy(body),
                         headers=WRITE_V2_HEADERS if v2 else WRITE_HEADERS, timeout=30)


def remote_read(url, start_ms, end_ms, matchers):
    body = prompb.snappy(prompb.read_request(start_ms, end_ms, matchers))
    response = requests.post(url + "/api/v1/read", data=body, timeout=30, headers={
        "Content-Encoding": "snappy", "Content-Type": "application/x-protobuf",
        "X-Prometheus-Remote-Read-Version": "0.1.0"})
    assert response.status_code == 200, response.text
    return prompb.read_response(prompb.unsnappy(response.content))[0]


def series(url, *matches, **params):
    response = requests.get(url + "/api/v1/series", params={"match[]": list(matches), **params}, timeout=30)
    assert response.status_code == 200, response.text
    return response.json()["data"]
