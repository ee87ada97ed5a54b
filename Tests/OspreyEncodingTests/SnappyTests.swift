import OspreyEncoding
import Testing

struct SnappyTests {
    /// Inputs for round-trip properties: empty, tiny, random, text, runs, and
    /// sizes around the 64 KiB block boundary and the 17-byte literal-only limit.
    static let roundTripCases: [(String, Int, UInt64)] = [
        ("empty", 0, 0), ("tiny", 1, 1), ("literal-only", 16, 2), ("min-block", 17, 3),
        ("random", 1000, 4), ("text", 5000, 5), ("runs", 100_000, 6), ("repetitive", 65_535, 7),
        ("repetitive", 65_536, 8), ("repetitive", 65_537, 9), ("random", 65_536 + 16, 10),
        ("text", 131_072 + 17, 11), ("mixed", 300_000, 12),
    ]

    static func input(kind: String, size: Int, seed: UInt64) -> [UInt8] {
        var rng = SeededGenerator(seed: seed)
        switch kind {
        case "random":
            return rng.bytes(size)
        case "text", "repetitive":
            let words = kind == "text"
                ? ["cpu", "memory", "http_requests_total", "{job=\"api\"}", " ", "\n", "le=\"0.5\"", "12345"]
                : ["abcabcabd"]
            var out: [UInt8] = []
            out.reserveCapacity(size)
            while out.count < size {
                out += Array((words.randomElement(using: &rng) ?? "").utf8)
            }
            return Array(out.prefix(size))
        case "runs":
            var out: [UInt8] = []
            while out.count < size {
                out += [UInt8](repeating: UInt8.random(in: 0...3, using: &rng), count: Int.random(in: 1...5000, using: &rng))
            }
            return Array(out.prefix(size))
        default:
            var out: [UInt8] = []
            while out.count < size {
                let part = ["random", "text", "runs"].randomElement(using: &rng) ?? "random"
                out += input(kind: part, size: Int.random(in: 1...40_000, using: &rng), seed: rng.next())
            }
            return Array(out.prefix(size))
        }
    }

    @Test(arguments: roundTripCases)
    func compressThenDecompressReturnsTheInput(kind: String, size: Int, seed: UInt64) throws {
        let original = Self.input(kind: kind, size: size, seed: seed)
        let compressed = Snappy.compress(original)
        #expect(compressed.count <= Snappy.maxCompressedLength(original.count))
        #expect(try compressed.withUnsafeBytes { try Snappy.decodedLength($0) } == original.count)
        #expect(try Snappy.decompress(compressed, maxDecodedLength: original.count) == original)
    }

    @Test func compressAppendingKeepsExistingOutput() throws {
        let original = Self.input(kind: "text", size: 70_000, seed: 13)
        var output: [UInt8] = [1, 2, 3]
        original.withUnsafeBytes { Snappy.compress($0, appendingTo: &output) }
        #expect(Array(output.prefix(3)) == [1, 2, 3])
        #expect(Array(output.dropFirst(3)) == Snappy.compress(original))
    }

    @Test(arguments: snappyFixtureNames)
    func decompressesOutputOfReferenceImplementation(name: String) throws {
        let raw = try Fixtures.bytes("snappy/\(name).raw")
        let compressed = try Fixtures.bytes("snappy/\(name).snappy")
        #expect(try Snappy.decompress(compressed, maxDecodedLength: 1 << 24) == raw)
        #expect(try Snappy.decompress(Snappy.compress(raw), maxDecodedLength: raw.count) == raw)
    }

    /// Hand-built block using every element kind: literal "abcd", copy-1
    /// (len 8, off 4), copy-2 (len 4, off 2), copy-4 (len 4, off 12).
    @Test func decodesEveryElementKind() throws {
        let block: [UInt8] = [20, 0x0C, 0x61, 0x62, 0x63, 0x64, 0x11, 0x04, 0x0E, 0x02, 0x00, 0x0F, 0x0C, 0x00, 0x00, 0x00]
        #expect(try Snappy.decompress(block, maxDecodedLength: 20) == Array("abcdabcdabcdcdcdabcd".utf8))
    }

    @Test func decodesLiteralWithOneByteLengthExtension() throws {
        let payload = (0..<100).map { UInt8($0) }
        let block: [UInt8] = [100, 60 << 2, 99] + payload
        #expect(try Snappy.decompress(block, maxDecodedLength: 100) == payload)
    }

    @Test func enforcesMaxDecodedLengthBeforeDecoding() {
        let compressed = Snappy.compress([UInt8](repeating: 7, count: 1000))
        let error = #expect(throws: EncodingError.self) { _ = try Snappy.decompress(compressed, maxDecodedLength: 999) }
        #expect(error?.code == .tooLarge)
        #expect(error?.offset == 0)
        #expect((try? Snappy.decompress(compressed, maxDecodedLength: 1000))?.count == 1000)
    }

    @Test func rejectsLengthsBeyondTheFormatLimitWithoutAllocating() {
        let huge: [UInt8] = [0xFF, 0xFF, 0xFF, 0xFF, 0x7F]  // 2^35 - 1
        let error = #expect(throws: EncodingError.self) { _ = try Snappy.decompress(huge, maxDecodedLength: .max) }
        #expect(error?.code == .tooLarge)
        let claimed: [UInt8] = [0xFF, 0xFF, 0xFF, 0xFF, 0x0F]  // 4 GiB - 1, no data
        let second = #expect(throws: EncodingError.self) { _ = try Snappy.decompress(claimed, maxDecodedLength: 1 << 20) }
        #expect(second?.code == .tooLarge)
    }

    /// Malformed blocks, the error code and the input offset reported.
    @Test(arguments: [
        ([], EncodingError.Code.truncated, 0),
        ([0x80], .truncated, 0),
        ([0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x01], .overflow, 0),
        ([5], .truncated, 1),
        ([5, 0x10, 0x61], .truncated, 1),
        ([2, 0x08, 0x61, 0x62, 0x63], .corrupt, 1),
        ([4, 0x00, 0x61, 0x01, 0x00], .corrupt, 3),
        ([8, 0x00, 0x61, 0x01, 0x02], .corrupt, 3),
        ([5, 0x00, 0x61, 0x0D, 0x01, 0x00], .corrupt, 3),
        ([9, 0x00, 0x61, 0x11], .truncated, 3),
        ([9, 0x00, 0x61, 0x12, 0x01], .truncated, 3),
        ([9, 0x00, 0x61, 0x13, 0x01, 0x00, 0x00], .truncated, 3),
        ([0, 0x00, 0x61], .corrupt, 1),
        ([3, 0xF0], .truncated, 1),
        ([3, 0xFC, 0xFF, 0xFF, 0xFF, 0xFF], .truncated, 1),
    ] as [([UInt8], EncodingError.Code, Int)])
    func malformedBlockThrowsWithOffset(block: [UInt8], code: EncodingError.Code, offset: Int) {
        let error = #expect(throws: EncodingError.self) { _ = try Snappy.decompress(block, maxDecodedLength: 1 << 20) }
        #expect(error?.code == code)
        #expect(error?.offset == offset)
    }

    @Test func randomMutationsOfValidBlocksNeverCrash() {
        var rng = SeededGenerator(seed: 99)
        let originals = [
            Snappy.compress(Self.input(kind: "text", size: 3000, seed: 1)),
            Snappy.compress(Self.input(kind: "runs", size: 3000, seed: 2)),
            Snappy.compress(Self.input(kind: "random", size: 300, seed: 3)),
        ]
        var failures = 0
        for iteration in 0..<3000 {
            var block = originals[iteration % originals.count]
            switch Int.random(in: 0..<4, using: &rng) {
            case 0:
                block.removeLast(Int.random(in: 1...block.count, using: &rng))
            case 1:
                for _ in 0..<Int.random(in: 1...4, using: &rng) {
                    block[Int.random(in: 0..<block.count, using: &rng)] = UInt8.random(in: 0...255, using: &rng)
                }
            case 2:
                block.insert(UInt8.random(in: 0...255, using: &rng), at: Int.random(in: 0...block.count, using: &rng))
            default:
                block = rng.bytes(Int.random(in: 0...64, using: &rng))
            }
            do {
                let out = try Snappy.decompress(block, maxDecodedLength: 1 << 16)
                #expect(out.count == (try block.withUnsafeBytes { try Snappy.decodedLength($0) }))
            } catch {
                failures += 1
            }
        }
        #expect(failures > 0)
    }

    @Test(arguments: [(0, 32), (1, 33), (6, 39), (65_536, 65_536 + 32 + 10_922)])
    func maxCompressedLengthFollowsGoFormula(source: Int, expected: Int) {
        #expect(Snappy.maxCompressedLength(source) == expected)
    }
}
