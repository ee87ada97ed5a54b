import OspreyEncoding
import Testing

/// Properties of the compressor's output format (element choice, block handling).
struct SnappyEncoderTests {
    @Test func emptyInputEncodesAsZeroLengthHeader() {
        #expect(Snappy.compress([]) == [0x00])
    }

    @Test func shortInputIsASingleLiteral() {
        let input = Array("hello, snappy!".utf8)
        #expect(Snappy.compress(input) == [14, 13 << 2] + input)
    }

    @Test func longLiteralUsesTwoByteLengthExtension() {
        var rng = SeededGenerator(seed: 21)
        let input = rng.bytes(1000)
        let out = Snappy.compress(input)
        #expect(Array(out.prefix(5)) == [0xE8, 0x07, 61 << 2, 0xE7, 0x03])
        #expect(out.count == 5 + 1000)
    }

    @Test func longRunCompressesToCopyElements() throws {
        let input = [UInt8](repeating: 0x41, count: 65_536)
        let out = Snappy.compress(input)
        // One 64 KiB block: literal + ~1024 copy-2 elements of 64 bytes, + tail literal.
        #expect(out.count < 3_200)
        #expect(try Snappy.decompress(out, maxDecodedLength: input.count) == input)
    }

    @Test func blocksAreIndependent() throws {
        // The same 64 KiB pattern twice compresses to ~twice one block: no cross-block matches.
        var rng = SeededGenerator(seed: 22)
        let block = rng.bytes(65_536)
        let one = Snappy.compress(block)
        let two = Snappy.compress(block + block)
        #expect(two.count >= 2 * one.count - 4)
        #expect(try Snappy.decompress(two, maxDecodedLength: 131_072) == block + block)
    }

    @Test func repetitiveTextCompressesWell() {
        let input = [UInt8](String(repeating: "http_requests_total{job=\"api\"} 1\n", count: 2000).utf8)
        #expect(Snappy.compress(input).count * 10 < input.count)
    }

    @Test func everyMatchLengthAndOffsetClassRoundTrips() throws {
        // Copies of lengths 4...200 at offsets straddling the copy-1/copy-2 boundary (2048).
        var rng = SeededGenerator(seed: 23)
        for offset in [1, 2, 3, 7, 8, 9, 15, 16, 100, 2047, 2048, 2049, 30_000] {
            for length in [4, 5, 11, 12, 60, 64, 65, 67, 68, 69, 128, 200] {
                let prefix = rng.bytes(offset)
                var input = prefix
                for _ in 0..<length { input.append(input[input.count - offset]) }
                input += rng.bytes(20)
                let out = Snappy.compress(input)
                #expect(try Snappy.decompress(out, maxDecodedLength: input.count) == input)
            }
        }
    }

    /// Stricter than needed (any valid block would do), but shows the matcher follows the
    /// reference algorithm: the Rust `snap` crate (cramjam), like Go's snappy, produced
    /// these fixtures and our bytes are identical. Relax to a round-trip if the encoder changes.
    @Test(arguments: snappyFixtureNames)
    func compressProducesSameBytesAsReferenceEncoder(name: String) throws {
        let raw = try Fixtures.bytes("snappy/\(name).raw")
        #expect(Snappy.compress(raw) == (try Fixtures.bytes("snappy/\(name).snappy")))
    }
}
