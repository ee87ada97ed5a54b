import OspreyEncoding
import Testing

struct BitReaderTests {
    @Test func readsWhatBitWriterWroteForRandomWidths() throws {
        var rng = SeededGenerator(seed: 31)
        var writer = BitWriter()
        var written: [(UInt64, Int)] = []
        for _ in 0..<5000 {
            let width = Int.random(in: 0...64, using: &rng)
            let value = width == 0 ? 0 : rng.next() >> UInt64(64 - width)
            written.append((value, width))
            if width == 1 && Bool.random(using: &rng) {
                writer.writeBit(value == 1)
            } else if width == 8 && Bool.random(using: &rng) {
                writer.writeByte(UInt8(value))
            } else {
                writer.writeBits(value, count: width)
            }
        }
        var reader = BitReader(writer.bytes)
        for (value, width) in written {
            #expect(try reader.readBits(width) == value)
        }
        #expect(reader.remainingBits < 16)
    }

    @Test func readBitWalksBytesMostSignificantFirst() throws {
        var reader = BitReader([0b1010_0000, 0xFF])
        #expect(try reader.readBit())
        #expect(try !reader.readBit())
        #expect(try reader.readBit())
        #expect(try reader.readBits(5) == 0)
        #expect(try reader.readByte() == 0xFF)
        let error = #expect(throws: EncodingError.self) { _ = try reader.readBit() }
        #expect(error?.code == .truncated)
        #expect(error?.offset == 2)
    }

    @Test func truncatedReadReportsByteOffsetWhereTheReadStarted() throws {
        var reader = BitReader([0, 1, 2, 3, 4, 5, 6, 7, 8, 9], startOffset: 1)
        _ = try reader.readBits(60)
        let error = #expect(throws: EncodingError.self) { _ = try reader.readBits(13) }
        #expect(error?.code == .truncated)
        #expect(error?.offset == 8)
    }

    @Test func sliceInitializerReadsOnlyTheSlice() throws {
        let bytes: [UInt8] = [0xFF, 0x12, 0x34, 0xFF]
        var reader = BitReader(bytes[1..<3])
        #expect(try reader.readBits(16) == 0x1234)
        #expect(throws: EncodingError.self) { _ = try reader.readBit() }
    }

    @Test func readsUnalignedVarints() throws {
        var writer = BitWriter()
        writer.writeBit(true)
        var encoded: [UInt8] = []
        Varint.appendVarint(-123_456_789, to: &encoded)
        Varint.appendUVarint(300, to: &encoded)
        for byte in encoded { writer.writeByte(byte) }
        var reader = BitReader(writer.bytes)
        #expect(try reader.readBit())
        #expect(try reader.readVarint() == -123_456_789)
        #expect(try reader.readUVarint() == 300)
    }

    @Test func overlongVarintIsOverflow() {
        var reader = BitReader([UInt8](repeating: 0xFF, count: 12))
        let error = #expect(throws: EncodingError.self) { _ = try reader.readUVarint() }
        #expect(error?.code == .overflow)
        #expect(error?.offset == 0)
    }
}
