#!/usr/bin/env python3
"""Writes remote-write/remote-read fixtures made by the reference protobuf implementation
(Google's python `protobuf`, from PyPI) and snappy by `cramjam`, into
Tests/OspreyIngestTests/Fixtures/. The Swift tests decode them and compare with the JSON
expectations written beside them.

Run:  pip install protobuf cramjam; apt-get install protobuf-compiler
      scripts/gen-remote-write-fixtures.py
Deterministic: rerunning rewrites the same bytes.
"""
import json
import os
import subprocess
import sys
import tempfile

import cramjam

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
OUT = os.path.join(ROOT, "Tests", "OspreyIngestTests", "Fixtures", "remote")


def compile_protos():
    tmp = tempfile.mkdtemp()
    proto_dir = os.path.join(ROOT, "scripts", "proto")
    subprocess.run(["protoc", "-I", proto_dir, "--python_out", tmp, "prompb.proto", "write_v2.proto"], check=True)
    sys.path.insert(0, tmp)
    import prompb_pb2
    import write_v2_pb2
    return prompb_pb2, write_v2_pb2


def write(name, message, expected):
    data = message.SerializeToString(deterministic=True)
    with open(os.path.join(OUT, name + ".pb"), "wb") as f:
        f.write(data)
    with open(os.path.join(OUT, name + ".pb.snappy"), "wb") as f:
        f.write(bytes(cramjam.snappy.compress_raw(data)))
    with open(os.path.join(OUT, name + ".json"), "w") as f:
        json.dump(expected, f, indent=1, sort_keys=True)
        f.write("\n")


def main():
    pb, v2 = compile_protos()
    os.makedirs(OUT, exist_ok=True)

    # Remote write 1.0: floats incl. special values, an exemplar, metadata, an integer histogram.
    request = pb.WriteRequest()
    series = [
        ({"__name__": "http_requests_total", "job": "api", "code": "200"}, [(1700000000000, 1.0), (1700000015000, 7.5)]),
        ({"__name__": "up", "instance": "10.0.0.1:9100", "job": "node"}, [(1700000000000, 1.0)]),
        ({"__name__": "weird", "ü": "ä\"\\\n"}, [(-5, -0.0), (0, float("inf"))]),
    ]
    for labels, samples in series:
        ts = request.timeseries.add()
        for name in sorted(labels):
            ts.labels.add(name=name, value=labels[name])
        for t, v in samples:
            ts.samples.add(timestamp=t, value=v)
    ex = request.timeseries[0].exemplars.add(value=0.25, timestamp=1700000000123)
    ex.labels.add(name="trace_id", value="4bf92f3577b34da6a3ce929d0e0e4736")
    hist_series = request.timeseries.add()
    hist_series.labels.add(name="__name__", value="latency")
    h = hist_series.histograms.add(count_int=10, sum=12.5, schema=1, zero_threshold=0.001, zero_count_int=2, timestamp=1700000000000, reset_hint=2)
    h.positive_spans.add(offset=0, length=3)
    h.positive_deltas.extend([2, 1, -1])
    h.negative_spans.add(offset=-2, length=1)
    h.negative_deltas.extend([2])
    request.metadata.add(type=pb.MetricMetadata.COUNTER, metric_family_name="http_requests_total", help="Requests.", unit="")
    expected_v1 = {
        "series": [{"labels": l, "samples": [[t, repr(v)] for t, v in s]} for l, s in series] + [{"labels": {"__name__": "latency"}, "samples": []}],
        "exemplar": {"series": 0, "labels": {"trace_id": "4bf92f3577b34da6a3ce929d0e0e4736"}, "value": 0.25, "timestamp": 1700000000123},
        "histogram": {"count": 10, "sum": 12.5, "schema": 1, "zero_threshold": 0.001, "zero_count": 2, "positive": [2, 3, 2], "negative": [2], "timestamp": 1700000000000, "reset_hint": 2},
        "metadata": [{"family": "http_requests_total", "type": "counter", "help": "Requests."}],
    }
    write("write_v1", request, expected_v1)

    # Remote write 2.0: symbols table, metadata, created timestamp, exemplar.
    request2 = v2.Request()
    symbols = ["", "__name__", "http_requests_total", "job", "api", "Requests.", "trace_id", "abc", "requests"]
    request2.symbols.extend(symbols)
    ts = request2.timeseries.add()
    ts.labels_refs.extend([1, 2, 3, 4])
    ts.samples.add(value=3.0, timestamp=1700000000000)
    ts.metadata.type = v2.Metadata.METRIC_TYPE_COUNTER
    ts.metadata.help_ref = 5
    ts.metadata.unit_ref = 8
    ts.created_timestamp = 1699999990000
    e = ts.exemplars.add(value=1.0, timestamp=1700000000001)
    e.labels_refs.extend([6, 7])
    write("write_v2", request2, {
        "labels": {"__name__": "http_requests_total", "job": "api"}, "samples": [[1700000000000, "3.0"]],
        "help": "Requests.", "unit": "requests", "type": "counter", "created": 1699999990000,
        "exemplar": {"labels": {"trace_id": "abc"}, "value": 1.0, "timestamp": 1700000000001},
    })

    # Remote read request as Prometheus sends it.
    read = pb.ReadRequest()
    q = read.queries.add(start_timestamp_ms=1000, end_timestamp_ms=2000)
    q.matchers.add(type=pb.LabelMatcher.EQ, name="__name__", value="up")
    q.matchers.add(type=pb.LabelMatcher.RE, name="job", value="n.*")
    q.matchers.add(type=pb.LabelMatcher.NRE, name="instance", value="x")
    q.hints.step_ms = 15000
    read.accepted_response_types.append(pb.ReadRequest.SAMPLES)
    write("read_request", read, {"start": 1000, "end": 2000, "matchers": ['__name__="up"', 'job=~"n.*"', 'instance!~"x"'], "accepted": [0]})

    # Remote read response the reference encoder produces for two series.
    response = pb.ReadResponse()
    result = response.results.add()
    for labels, samples in series[:2]:
        ts = result.timeseries.add()
        for name in sorted(labels):
            ts.labels.add(name=name, value=labels[name])
        for t, v in samples:
            ts.samples.add(timestamp=t, value=v)
    write("read_response", response, {"series": [{"labels": l, "samples": [[t, repr(v)] for t, v in s]} for l, s in series[:2]]})


if __name__ == "__main__":
    main()
