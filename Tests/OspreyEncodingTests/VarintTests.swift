import OspreyEncoding
import Testing

struct VarintTests {
    /// Byte sequences produced by Go's `binary.PutUvarint`.
    static let goUVarints: [(UInt64, [UInt8])] = [
        (0, [0x00]),
        (1, [0x01]),
        (127, [0x7F]),
        (128, [0x80, 0x01]),
        (300, [0xAC, 0x02]),
        (16_383, [0xFF, 0x7F]),
        (16_384, [0x80, 0x80, 0x01]),
        (1 << 63, [0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01]),
        (UInt64.max, [0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x01]),
    ]

    /// Byte sequences produced by Go's `binary.PutVarint` (zig-zag).
    static let goVarints: [(Int64, [UInt8])] = [
        (0, [0x00]),
        (-1, [0x01]),
        (1, [0x02]),
        (-64, [0x7F]),
        (64, [0x80, 0x01]),
        (1000, [0xD0, 0x0F]),
        (-1000, [0xCF, 0x0F]),
        (Int64.max, [0xFE, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x01]),
        (Int64.min, [0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x01]),
    ]

    private static func readU(_ bytes: [UInt8]) throws(EncodingError) -> (UInt64, Int) {
        let result = bytes.withUnsafeBytes { raw in
            Result { () throws(EncodingError) -> (UInt64, Int) in
                var reader = ByteReader(raw)
                let value = try reader.readUVarint()
                return (value, reader.offset)
            }
        }
        return try result.get()
    }

    @Test(arguments: goUVarints)
    func appendUVarintMatchesGoEncoding(value: UInt64, expected: [UInt8]) throws {
        var out: [UInt8] = [0xAA]
        Varint.appendUVarint(value, to: &out)
        #expect(out == [0xAA] + expected)
        #expect(Varint.uvarintSize(value) == expected.count)
        let (decoded, consumed) = try Self.readU(expected)
        #expect(decoded == value)
        #expect(consumed == expected.count)
    }

    @Test(arguments: goVarints)
    func appendVarintMatchesGoEncoding(value: Int64, expected: [UInt8]) throws {
        var out: [UInt8] = []
        Varint.appendVarint(value, to: &out)
        #expect(out == expected)
        #expect(Varint.varintSize(value) == expected.count)
        let decoded = try expected.withUnsafeBytes { raw throws in
            var reader = ByteReader(raw)
            return try reader.readVarint()
        }
        #expect(decoded == value)
    }

    @Test func randomValuesRoundTripThroughAppendAndRead() throws {
        var rng = SeededGenerator(seed: 3)
        var buffer: [UInt8] = []
        var unsigned: [UInt64] = []
        var signed: [Int64] = []
        for _ in 0..<2000 {
            let bitsWide = Int.random(in: 0...64, using: &rng)
            let u = bitsWide == 0 ? 0 : rng.next() >> UInt64(64 - bitsWide)
            let s = Int64(bitPattern: rng.next()) >> Int64.random(in: 0...63, using: &rng)
            unsigned.append(u)
            signed.append(s)
            Varint.appendUVarint(u, to: &buffer)
            Varint.appendVarint(s, to: &buffer)
        }
        try buffer.withUnsafeBytes { raw throws in
            var reader = ByteReader(raw)
            for (u, s) in zip(unsigned, signed) {
                #expect(try reader.readUVarint() == u)
                #expect(try reader.readVarint() == s)
            }
            #expect(reader.isAtEnd)
        }
    }

    @Test func zigZagIsInvertibleAndInterleavesSigns() {
        #expect((-2...2).map { Varint.zigZag(Int64($0)) } == [3, 1, 0, 2, 4])
        for v: Int64 in [0, 1, -1, .max, .min, 123_456_789, -987_654_321] {
            #expect(Varint.unZigZag(Varint.zigZag(v)) == v)
        }
    }

    @Test(arguments: [
        ([0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x02], EncodingError.Code.overflow),
        ([0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01], .overflow),
        ([0x80], .truncated),
        ([0xFF, 0xFF], .truncated),
        ([], .truncated),
    ] as [([UInt8], EncodingError.Code)])
    func malformedUVarintThrowsLikeGo(bytes: [UInt8], code: EncodingError.Code) {
        let error = #expect(throws: EncodingError.self) { _ = try Self.readU(bytes) }
        #expect(error?.code == code)
        #expect(error?.offset == 0)
    }
}
