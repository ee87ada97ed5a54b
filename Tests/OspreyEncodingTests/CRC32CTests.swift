import OspreyEncoding
import Testing

struct CRC32CTests {
    /// Bit-at-a-time reference implementation (reflected Castagnoli polynomial).
    private static func reference(_ bytes: [UInt8]) -> UInt32 {
        var crc: UInt32 = 0xFFFF_FFFF
        for byte in bytes {
            crc ^= UInt32(byte)
            for _ in 0..<8 {
                crc = (crc & 1) != 0 ? (crc >> 1) ^ 0x82F6_3B78 : crc >> 1
            }
        }
        return ~crc
    }

    /// Known vectors: the CRC catalogue check value, RFC 3720 B.4 iSCSI vectors, and Go's crc32 output.
    @Test(arguments: [
        (Array("123456789".utf8), UInt32(0xE306_9283)),
        ([], 0),
        (Array("a".utf8), 0xC1D0_4330),
        ([UInt8](repeating: 0, count: 32), 0x8A91_36AA),
        ([UInt8](repeating: 0xFF, count: 32), 0x62A8_AB43),
        ((0..<32).map { UInt8($0) }, 0x46DD_794E),
        ((0..<32).reversed().map { UInt8($0) }, 0x113F_DB5C),
        (Array("The quick brown fox jumps over the lazy dog".utf8), 0x2262_0404),
    ] as [([UInt8], UInt32)])
    func checksumMatchesKnownVector(input: [UInt8], expected: UInt32) {
        #expect(CRC32C.checksum(input) == expected)
        #expect(input.withUnsafeBytes { CRC32C.checksum($0) } == expected)
    }

    @Test func checksumMatchesBitwiseReferenceForEveryLengthAndAlignment() {
        var rng = SeededGenerator(seed: 1)
        let data = rng.bytes(300)
        for start in 0..<9 {
            for end in stride(from: start, through: data.count, by: 7) {
                let slice = data[start..<end]
                #expect(CRC32C.checksum(slice) == Self.reference(Array(slice)))
            }
        }
    }

    @Test func updateOfChecksumEqualsChecksumOfConcatenation() {
        var rng = SeededGenerator(seed: 2)
        for _ in 0..<200 {
            let a = rng.bytes(Int.random(in: 0...100, using: &rng))
            let b = rng.bytes(Int.random(in: 0...100, using: &rng))
            #expect(CRC32C.update(CRC32C.checksum(a), b) == CRC32C.checksum(a + b))
            let viaPointer = b.withUnsafeBytes { CRC32C.update(CRC32C.checksum(a), $0) }
            #expect(viaPointer == CRC32C.checksum(a + b))
        }
    }

    @Test func updateWithNoBytesReturnsInputUnchanged() {
        #expect(CRC32C.update(0xDEAD_BEEF, []) == 0xDEAD_BEEF)
        #expect(CRC32C.update(0, []) == 0)
    }

    @Test(arguments: xorFixtureNames)
    func checksumMatchesCRCsWrittenByPrometheus(name: String) throws {
        let chunks = try parseChunkSegment(Fixtures.bytes("xor/\(name).segment"))
        #expect(!chunks.isEmpty)
        for chunk in chunks {
            #expect(chunk.computedCRC == chunk.storedCRC)
        }
    }
}
