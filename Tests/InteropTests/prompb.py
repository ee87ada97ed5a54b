"""Minimal protobuf encoding/decoding of Prometheus' remote write/read messages for the tests.

Written from the field numbers in prometheus/prompb/{remote,types}.proto and
io/prometheus/write/v2/types.proto, independent of Osprey's Swift decoder so the two check
each other.
"""
import struct

import cramjam


def _varint(value):
    out = bytearray()
    value &= (1 << 64) - 1
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def _key(field, wire):
    return _varint((field << 3) | wire)


def _bytes(field, data):
    return _key(field, 2) + _varint(len(data)) + data


def _str(field, text):
    return _bytes(field, text.encode())


def _double(field, value):
    return _key(field, 1) + struct.pack("<d", value)


def _int(field, value):
    return _key(field, 0) + _varint(value)


def label(name, value):
    return _str(1, name) + _str(2, value)


def sample(value, timestamp_ms):
    return _double(1, value) + _int(2, timestamp_ms)


def write_request(series):
    """series: list of (labels dict, [(timestamp_ms, value)]) -> WriteRequest bytes."""
    body = b""
    for labels, samples in series:
        ts = b"".join(_bytes(1, label(k, v)) for k, v in sorted(labels.items()))
        ts += b"".join(_bytes(2, sample(v, t)) for t, v in samples)
        body += _bytes(1, ts)
    return body


def write_request_v2(series):
    """series: list of (labels dict, [(timestamp_ms, value)]) -> io.prometheus.write.v2.Request."""
    symbols = [""]
    index = {"": 0}

    def ref(text):
        if text not in index:
            index[text] = len(symbols)
            symbols.append(text)
        return index[text]

    timeseries = b""
    for labels, samples in series:
        refs = []
        for k, v in sorted(labels.items()):
            refs += [ref(k), ref(v)]
        packed = b"".join(_varint(r) for r in refs)
        ts = _bytes(1, packed)
        ts += b"".join(_bytes(2, sample(v, t)) for t, v in samples)
        timeseries += _bytes(5, ts)
    return b"".join(_str(4, s) for s in symbols) + timeseries


def read_request(start_ms, end_ms, matchers):
    """matchers: list of (type, name, value), type 0 EQ, 1 NEQ, 2 RE, 3 NRE."""
    query = _int(1, start_ms) + _int(2, end_ms)
    for kind, name, value in matchers:
        query += _bytes(3, _int(1, kind) + _str(2, name) + _str(3, value))
    return _bytes(1, query) + _int(2, 0)


def snappy(data):
    return bytes(cramjam.snappy.compress_raw(data))


def unsnappy(data):
    return bytes(cramjam.snappy.decompress_raw(data))


def _fields(data):
    pos = 0
    while pos < len(data):
        key, pos = _read_varint(data, pos)
        field, wire = key >> 3, key & 7
        if wire == 0:
            value, pos = _read_varint(data, pos)
        elif wire == 1:
            value = data[pos:pos + 8]
            pos += 8
        elif wire == 2:
            length, pos = _read_varint(data, pos)
            value = data[pos:pos + length]
            pos += length
        elif wire == 5:
            value = data[pos:pos + 4]
            pos += 4
        else:
            raise ValueError("unsupported wire type %d" % wire)
        yield field, wire, value


def _read_varint(data, pos):
    result = shift = 0
    while True:
        byte = data[pos]
        pos += 1
        result |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return result, pos
        shift += 7


def read_response(data):
    """ReadResponse bytes -> list (per query) of {labels tuple: [(t, value bits)]}."""
    results = []
    for field, _, result in _fields(data):
        if field != 1:
            continue
        series = {}
        for f2, _, ts in _fields(result):
            if f2 != 1:
                continue
            labels, samples = [], []
            for f3, _, value in _fields(ts):
                if f3 == 1:
                    pair = {f: v.decode() for f, _, v in _fields(value)}
                    labels.append((pair.get(1, ""), pair.get(2, "")))
                elif f3 == 2:
                    t, bits = 0, 0
                    for f4, _, v in _fields(value):
                        if f4 == 1:
                            bits = struct.unpack("<Q", v)[0]
                        elif f4 == 2:
                            t = v - (1 << 64) if v >= 1 << 63 else v
                    samples.append((t, bits))
            series[tuple(sorted(labels))] = samples
        results.append(series)
    return results


def float_bits(value):
    return struct.unpack("<Q", struct.pack("<d", value))[0]
