import OspreyEncoding
import Testing

struct XORChunkEncoderTests {
    @Test func emptyChunkIsJustTheZeroCountHeader() {
        let encoder = XORChunkEncoder()
        #expect(encoder.bytes == [0x00, 0x00])
        #expect(encoder.count == 0)
    }

    /// Derived by hand from Prometheus' xor.go (and identical to the chunk
    /// `promtool tsdb create-blocks-from openmetrics` wrote, see Fixtures/xor/basic.*):
    /// - `00 04`: sample count 4.
    /// - sample 0: varint(zigzag 1000 = 2000) = `d0 0f`; 1.0 bits `3ff0000000000000`.
    ///   Both are whole-byte writes, so the stream is byte-aligned again.
    /// - sample 1: uvarint(delta 1000) = `e8 07`; xor(2.0, 1.0) = 0x7ff0…: '1' nonzero,
    ///   '1' new window, leading 1 = '00001', 11 sig bits = '001011', '11111111111'
    ///   → `c2 5f ff`.
    /// - sample 2: dod 0 → '0'; xor(3.0, 2.0) = 0x0008…: leading 12, trailing 51 does not
    ///   fit window (1, 52) → '1' '1' '01100' '000001' '1'.
    /// - sample 3: dod 1 → '10' + 14-bit '00000000000001'; same value → '0'.
    ///   Bits of samples 2–3: 0110110 0000001 1 10 00000000000001 0 → `6c 07 00 02`.
    @Test func encodesHandDerivedVectorByteForByte() {
        var encoder = XORChunkEncoder()
        for (t, v) in [(1000, 1.0), (2000, 2.0), (3000, 3.0), (4001, 3.0)] as [(Int64, Double)] {
            encoder.append(timestampMs: t, value: v)
        }
        let expected: [UInt8] = [
            0x00, 0x04, 0xD0, 0x0F, 0x3F, 0xF0, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
            0xE8, 0x07, 0xC2, 0x5F, 0xFF, 0x6C, 0x07, 0x00, 0x02,
        ]
        #expect(encoder.bytes == expected)
        #expect(encoder.count == 4)
    }

    /// Re-encodes the samples of every chunk Prometheus wrote and compares bytes exactly.
    @Test(arguments: xorFixtureNames)
    func encodesByteIdenticalToPrometheusChunks(name: String) throws {
        let chunks = try parseChunkSegment(Fixtures.bytes("xor/\(name).segment"))
        var samples = try parseSamples(Fixtures.text("xor/\(name).samples"))[...]
        for chunk in chunks {
            #expect(chunk.encoding == 1)
            let count = Int(chunk.data[0]) << 8 | Int(chunk.data[1])
            var encoder = XORChunkEncoder()
            for sample in samples.prefix(count) {
                encoder.append(timestampMs: sample.timestampMs, value: Double(bitPattern: sample.bits))
            }
            samples = samples.dropFirst(count)
            #expect(encoder.bytes == chunk.data)
        }
        #expect(samples.isEmpty)
    }

    /// Delta-of-delta bucket (number of leading '1' bits, 0...4) per Prometheus'
    /// asymmetric `bitRange`: -(2^(n-1) - 1) <= dod <= 2^(n-1).
    @Test(arguments: [
        (Int64(0), 0), (1, 1), (-1, 1), (8192, 1), (-8191, 1), (8193, 2), (-8192, 2),
        (65_536, 2), (-65_535, 2), (65_537, 3), (-65_536, 3), (524_288, 3), (-524_287, 3),
        (524_289, 4), (-524_288, 4), (1 << 40, 4), (-(1 << 40), 4),
    ] as [(Int64, Int)])
    func picksDeltaOfDeltaBucketLikePrometheus(dod: Int64, expectedPrefixOnes: Int) throws {
        var encoder = XORChunkEncoder()
        encoder.append(timestampMs: 0, value: 0)
        encoder.append(timestampMs: 1000, value: 0)
        encoder.append(timestampMs: 2000 + dod, value: 0)
        // Header (2) + varint 0 (1) + 64 value bits (8) + uvarint 1000 (2) = 13 aligned bytes,
        // then the '0' of sample 1's unchanged value, then sample 2's dod prefix.
        var reader = BitReader(encoder.bytes, startOffset: 13)
        #expect(try !reader.readBit())
        var ones = 0
        while ones < 4, try reader.readBit() { ones += 1 }
        #expect(ones == expectedPrefixOnes)
        var decoder = try XORChunkDecoder(encoder.bytes)
        for expected in [0, 1000, 2000 + dod] {
            #expect(try decoder.next())
            #expect(decoder.timestampMs == expected)
        }
    }

    @Test func refusesSamplesBeyondTheSixteenBitCount() throws {
        var encoder = XORChunkEncoder()
        for i in 0..<XORChunkEncoder.maxSamples {
            encoder.append(timestampMs: Int64(i) * 15, value: 1)
        }
        #expect(encoder.isFull)
        let before = encoder.bytes
        let accepted = encoder.append(timestampMs: 1 << 40, value: 2)
        #expect(!accepted)
        #expect(encoder.bytes == before)
        #expect(Array(before.prefix(2)) == [0xFF, 0xFF])
    }
}
