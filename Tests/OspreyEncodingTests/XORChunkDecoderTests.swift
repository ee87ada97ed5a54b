import OspreyEncoding
import Testing

struct XORChunkDecoderTests {
    private static func decodeAll(_ bytes: [UInt8]) throws -> [(Int64, UInt64)] {
        var decoder = try XORChunkDecoder(bytes)
        var out: [(Int64, UInt64)] = []
        while try decoder.next() {
            out.append((decoder.timestampMs, decoder.valueBits))
            #expect(decoder.value.bitPattern == decoder.valueBits)
        }
        return out
    }

    private static func encode(_ samples: [(Int64, UInt64)]) -> [UInt8] {
        var encoder = XORChunkEncoder()
        for (t, bits) in samples {
            encoder.append(timestampMs: t, value: Double(bitPattern: bits))
        }
        return encoder.bytes
    }

    static let specialValueBits: [UInt64] = [
        0x7FF0_0000_0000_0002,  // Prometheus staleness marker
        0x7FF8_0000_0000_0001,  // Go math.NaN()
        0x7FF8_0000_0000_0000, 0xFFF8_0000_0000_0000, 0x7FF4_0000_0000_0000, 0x7FFF_FFFF_FFFF_FFFF,
        Double.infinity.bitPattern, (-Double.infinity).bitPattern, (-0.0).bitPattern, 0,
        1, Double.greatestFiniteMagnitude.bitPattern, 1.0.bitPattern, 0.1.bitPattern,
    ]

    static func randomSeries(seed: UInt64, count: Int) -> [(Int64, UInt64)] {
        var rng = SeededGenerator(seed: seed)
        var t = Int64.random(in: -10_000_000_000...10_000_000_000, using: &rng)
        var value = 0.0
        var out: [(Int64, UInt64)] = []
        for _ in 0..<count {
            switch Int.random(in: 0..<10, using: &rng) {
            case 0: t &+= Int64.random(in: -5_000_000...5_000_000_000, using: &rng)  // big jumps, backwards too
            case 1: t &+= Int64.random(in: 0...3, using: &rng)
            case 2: t = Int64(bitPattern: rng.next())  // anything at all
            default: t &+= 15_000 + Int64.random(in: -20...20, using: &rng)
            }
            switch Int.random(in: 0..<8, using: &rng) {
            case 0: value = Double(bitPattern: specialValueBits.randomElement(using: &rng) ?? 0)
            case 1: value = Double(bitPattern: rng.next())
            case 2: break  // repeat
            case 3: value = Double(Int.random(in: 0...1000, using: &rng))
            default: value = (value.isFinite ? value : 0) + Double.random(in: -10...10, using: &rng)
            }
            out.append((t, value.bitPattern))
        }
        return out
    }

    @Test(arguments: xorFixtureNames)
    func decodesChunksWrittenByPrometheus(name: String) throws {
        let chunks = try parseChunkSegment(Fixtures.bytes("xor/\(name).segment"))
        let expected = try parseSamples(Fixtures.text("xor/\(name).samples"))
        let decoded = try chunks.flatMap { try Self.decodeAll($0.data) }
        #expect(decoded.count == expected.count)
        for (got, want) in zip(decoded, expected) {
            #expect(got.0 == want.timestampMs)
            #expect(got.1 == want.bits, "value bits differ at t=\(want.timestampMs)")
        }
    }

    @Test(arguments: [(1, 1), (2, 2), (3, 3), (120, 4), (1000, 5), (5000, 6)])
    func randomSeriesRoundTripBitExactly(count: Int, seed: UInt64) throws {
        let series = Self.randomSeries(seed: seed, count: count)
        let decoded = try Self.decodeAll(Self.encode(series))
        #expect(decoded.count == series.count)
        for (got, want) in zip(decoded, series) {
            #expect(got.0 == want.0)
            #expect(got.1 == want.1)
        }
    }

    @Test(arguments: specialValueBits)
    func specialValuesSurviveEveryPosition(bits: UInt64) throws {
        let series: [(Int64, UInt64)] = [(-5, bits), (0, 2.5.bitPattern), (1, bits), (2, bits), (Int64.max, 0), (Int64.min, bits)]
        let decoded = try Self.decodeAll(Self.encode(series))
        #expect(decoded.map(\.0) == series.map(\.0))
        #expect(decoded.map(\.1) == series.map(\.1))
    }

    @Test func emptyChunkYieldsNoSamples() throws {
        var decoder = try XORChunkDecoder([0, 0])
        #expect(try !decoder.next())
        #expect(decoder.count == 0)
    }

    @Test(arguments: [[], [0x00]] as [[UInt8]])
    func chunkWithoutHeaderIsTruncated(bytes: [UInt8]) {
        let error = #expect(throws: EncodingError.self) { _ = try XORChunkDecoder(bytes) }
        #expect(error?.code == .truncated)
        #expect(error?.offset == 0)
    }

    @Test func headerClaimingMoreSamplesThanStoredThrowsTruncated() throws {
        var bytes = Self.encode([(1000, 1.0.bitPattern), (2000, 2.0.bitPattern)])
        bytes[1] = 3
        var decoder = try XORChunkDecoder(bytes)
        #expect(try decoder.next())
        #expect(try decoder.next())
        let error = #expect(throws: EncodingError.self) { _ = try decoder.next() }
        #expect(error?.code == .truncated)
    }

    @Test func xorWindowWiderThanSixtyFourBitsIsCorrupt() throws {
        var writer = BitWriter(prefix: [0x00, 0x02])
        writer.writeByte(0x00)  // t0 = 0
        writer.writeBits(0, count: 64)  // v0 = 0
        writer.writeByte(0x01)  // delta 1
        writer.writeBits(0b11, count: 2)  // changed value, new window
        writer.writeBits(31, count: 5)  // leading 31
        writer.writeBits(40, count: 6)  // 40 significant bits: 31 + 40 > 64
        writer.writeBits(0, count: 40)
        var decoder = try XORChunkDecoder(writer.bytes)
        #expect(try decoder.next())
        let error = #expect(throws: EncodingError.self) { _ = try decoder.next() }
        #expect(error?.code == .corrupt)
        #expect(error?.offset == 12)
    }

    @Test func randomMutationsOfValidChunksNeverCrash() {
        var rng = SeededGenerator(seed: 77)
        let original = Self.encode(Self.randomSeries(seed: 8, count: 200))
        for _ in 0..<2000 {
            var bytes = original
            if Bool.random(using: &rng) {
                bytes.removeLast(Int.random(in: 1...bytes.count, using: &rng))
            } else {
                for _ in 0..<Int.random(in: 1...3, using: &rng) {
                    bytes[Int.random(in: 0..<bytes.count, using: &rng)] = UInt8.random(in: 0...255, using: &rng)
                }
            }
            do {
                var decoder = try XORChunkDecoder(bytes)
                var decoded = 0
                while try decoder.next() { decoded += 1 }
                #expect(decoded == decoder.count)
            } catch {
                // Typed throws: only EncodingError can arrive here; reaching it without a trap is the property.
                #expect(error.offset >= 0 && error.offset <= bytes.count)
            }
        }
    }

    /// The samples the sample-by-sample reader yields before its first error.
    private static func decodePrefix(_ bytes: [UInt8]) -> [(Int64, UInt64)] {
        guard var decoder = try? XORChunkDecoder(bytes) else { return [] }
        var out: [(Int64, UInt64)] = []
        while let sample = try? decoder.nextSample() { out.append(sample) }
        return out
    }

    /// The bulk decoder over `bytes`, `capacity` samples per call until it writes none.
    private static func decodeBulk(_ bytes: [UInt8], capacity: Int) -> [(Int64, UInt64)] {
        guard var decoder = try? XORChunkDecoder(bytes) else { return [] }
        var out: [(Int64, UInt64)] = []
        var buffer = [UInt64](repeating: 0, count: 2 * capacity)
        while true {
            let written = buffer.withUnsafeMutableBytes { decoder.decode(into: $0.baseAddress!, capacity: capacity) }
            for i in 0..<written { out.append((Int64(bitPattern: buffer[2 * i]), buffer[2 * i + 1])) }
            if written == 0 { return out }
        }
    }

    @Test(arguments: [1, 3, 120, 5000])
    func bulkDecodingEqualsSampleBySampleDecoding(_ capacity: Int) {
        var rng = SeededGenerator(seed: 99)
        for seed in 0..<60 {
            let bytes = Self.encode(Self.randomSeries(seed: UInt64(seed), count: [1, 2, 3, 120, 700][seed % 5]))
            var variants = [bytes]
            for _ in 0..<20 {
                var mutated = bytes
                if Bool.random(using: &rng) {
                    mutated.removeLast(Int.random(in: 1...mutated.count, using: &rng))
                } else {
                    mutated[Int.random(in: 0..<mutated.count, using: &rng)] = UInt8.random(in: 0...255, using: &rng)
                }
                variants.append(mutated)
            }
            for variant in variants {
                let expected = Self.decodePrefix(variant)
                let bulk = Self.decodeBulk(variant, capacity: capacity)
                #expect(bulk.map(\.0) == expected.map(\.0), "seed \(seed), \(variant.count) bytes")
                #expect(bulk.map(\.1) == expected.map(\.1), "seed \(seed), \(variant.count) bytes")
            }
        }
    }
}
