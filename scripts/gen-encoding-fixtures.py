#!/usr/bin/env python3
"""Generate test fixtures for the OspreyEncoding module from REAL implementations.

How to run (from the repository root):

    pip install cramjam            # Rust `snap` crate bindings: reference snappy
    # optional, for XOR chunk fixtures: Prometheus' `promtool` on PATH
    # (Debian: `apt-get install prometheus`; fixtures were made with 2.42.0)
    python3 scripts/gen-encoding-fixtures.py

Output (under Tests/OspreyEncodingTests/Fixtures/):

  snappy/<name>.raw, snappy/<name>.snappy
      Input bytes and their snappy *block* encoding by cramjam.snappy.compress_raw.

  xor/<name>.segment, xor/<name>.samples
      `<name>.segment` is the `chunks/000001` segment file of a TSDB block written
      by `promtool tsdb create-blocks-from openmetrics` (8-byte header, then per
      chunk: uvarint data length, 1 encoding byte, chunk data, 4-byte CRC32C).
      `<name>.samples` lists the samples, one "<timestamp ms> <float64 bits hex>"
      per line, as read back by `promtool tsdb dump` (so Prometheus itself decoded
      them). Go's canonical NaN (math.NaN()) has bits 0x7ff8000000000001.
      Skipped with a note if promtool is not installed.

Everything is deterministic (fixed seeds); re-running rewrites identical files
(except XOR fixtures if a different Prometheus version changes its encoder).
"""

import os
import random
import shutil
import struct
import subprocess
import sys
import tempfile

import cramjam

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FIXTURES = os.path.join(ROOT, "Tests", "OspreyEncodingTests", "Fixtures")
GO_NAN_BITS = 0x7FF8000000000001


def write(path, data):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(data)


# --------------------------------------------------------------------------- snappy

def snappy_inputs():
    rng = random.Random(20240601)
    words = ("up http_requests_total job instance le quantile bucket sum count "
             "node cpu seconds memory bytes scrape duration samples series").split()
    text = " ".join(rng.choice(words) for _ in range(700)).encode()
    exposition = "".join(
        f'http_requests_total{{code="{c}",method="{m}",handler="/api/v1/{h}"}} {rng.randint(0, 10**6)} {1700000000000 + i * 15000}\n'
        for i, (c, m, h) in enumerate(
            (rng.choice(["200", "404", "500"]), rng.choice(["get", "post"]), rng.choice(["query", "write", "series"]))
            for _ in range(1200))
    ).encode()  # ~120 KB: crosses 64 KiB block boundaries
    return {
        "empty": b"",
        "one-byte": b"x",
        "short-text": b"hello, snappy!",
        "text": text,
        "random": rng.randbytes(5000),
        "repetitive": b"abcabcabd" * 3000,
        "runs": b"\x00" * 70000 + b"\xff" * 1000 + b"ab" * 5000,
        "large-mixed": exposition + rng.randbytes(70000) + exposition[:60000],
    }


def gen_snappy():
    for name, raw in snappy_inputs().items():
        comp = bytes(cramjam.snappy.compress_raw(raw))
        assert bytes(cramjam.snappy.decompress_raw(comp)) == raw
        write(os.path.join(FIXTURES, "snappy", name + ".raw"), raw)
        write(os.path.join(FIXTURES, "snappy", name + ".snappy"), comp)
        print(f"snappy/{name}: {len(raw)} -> {len(comp)} bytes")


# --------------------------------------------------------------------------- xor

def xor_series():
    rng = random.Random(7)
    basic = [(1000, 1.0), (2000, 2.0), (3000, 3.0), (4001, 3.0)]

    counter, t, v = [], 1000, 0.0
    for _ in range(120):
        counter.append((t, v))
        t += 15000 + rng.choice([0, 0, 0, 1, -1, 3])
        v += rng.randint(0, 50)

    # Delta-of-delta hits every bucket: 0, 14-bit, 17-bit, 20-bit, 64-bit.
    gauge, t = [], 5000
    jitters = [0, 5, -7, 8191, -8191, 8192, -8192, 40000, -40000, 65536, 300000, -300000, 524288, 1500000]
    for i in range(120):
        kind = i % 4
        if kind == 0:
            v = rng.uniform(-1e6, 1e6)
        elif kind == 1:
            v = round(rng.gauss(100, 15), 2)
        elif kind == 2:
            v = float(rng.randint(0, 10))
        else:
            v = gauge[-1][1]
        gauge.append((t, v))
        step = 15000
        if i % 9 == 4:
            step += rng.choice(jitters)
        t += max(step, 2)
    assert t < 7_200_000, t

    specials = [float("nan"), float("inf"), float("-inf"), -0.0, 0.0, 5e-324, 1.7976931348623157e308,
                1e-300, 0.1, 0.2, 0.30000000000000004, 1.0, 1.0, 2.0, 1e15, -1e15, 123456.789]
    special, t = [], 0
    for i in range(60):
        special.append((t, specials[i % len(specials)] if i % 5 else rng.choice(specials)))
        t += 1000 + (i % 3)
    return {"basic": basic, "counter": counter, "gauge": gauge, "special": special}


def fmt_ts(ms):
    # Prometheus truncates seconds*1000 to int64; the trailing '1' keeps the product above ms.
    return f"{ms // 1000}.{ms % 1000:03d}1"


def fmt_value(v):
    if v != v:
        return "NaN"
    if v in (float("inf"), float("-inf")):
        return "+Inf" if v > 0 else "-Inf"
    return repr(v)


def bits(v):
    return GO_NAN_BITS if v != v else struct.unpack(">Q", struct.pack(">d", v))[0]


def gen_xor():
    promtool = shutil.which("promtool")
    if not promtool:
        print("promtool not found: XOR fixtures left unchanged", file=sys.stderr)
        return
    for name, samples in xor_series().items():
        with tempfile.TemporaryDirectory() as tmp:
            om = os.path.join(tmp, "in.om")
            with open(om, "w") as f:
                f.write("# TYPE fixture gauge\n")
                for ms, v in samples:
                    f.write(f"fixture {fmt_value(v)} {fmt_ts(ms)}\n")
                f.write("# EOF\n")
            out = os.path.join(tmp, "db")
            subprocess.run([promtool, "tsdb", "create-blocks-from", "openmetrics", om, out],
                           check=True, capture_output=True)
            blocks = [d for d in os.listdir(out) if os.path.isdir(os.path.join(out, d, "chunks"))]
            assert len(blocks) == 1, blocks
            os.makedirs(os.path.join(out, "wal"), exist_ok=True)
            dump = subprocess.run([promtool, "tsdb", "dump", out], check=True, capture_output=True, text=True).stdout
            dumped = []
            for line in dump.splitlines():
                value, ms = line.rsplit(" ", 2)[1:]
                dumped.append((int(ms), bits(float(value))))
            expected = [(ms, bits(v)) for ms, v in samples]
            assert dumped == expected, f"{name}: promtool dump differs from the generated samples"
            with open(os.path.join(out, blocks[0], "chunks", "000001"), "rb") as f:
                segment = f.read()
        write(os.path.join(FIXTURES, "xor", name + ".segment"), segment)
        write(os.path.join(FIXTURES, "xor", name + ".samples"),
              "".join(f"{ms} {b:016x}\n" for ms, b in expected).encode())
        print(f"xor/{name}: {len(samples)} samples, segment {len(segment)} bytes")


if __name__ == "__main__":
    gen_snappy()
    gen_xor()
