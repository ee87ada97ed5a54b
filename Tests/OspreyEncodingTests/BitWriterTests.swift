import OspreyEncoding
import Testing

struct BitWriterTests {
    @Test func writesBitsMostSignificantFirst() {
        var writer = BitWriter()
        for bit in [true, false, true, true, false, false, false, true, true] {
            writer.writeBit(bit)
        }
        #expect(writer.bytes == [0b1011_0001, 0b1000_0000])
        #expect(writer.bitCount == 9)
    }

    /// Prometheus' bstream always appends a byte in writeByte, leaving a free
    /// (zero) trailing byte when the stream is byte-aligned.
    @Test func alignedWriteByteLeavesFreeTrailingByteLikeBstream() {
        var writer = BitWriter()
        writer.writeByte(0xAB)
        #expect(writer.bytes == [0xAB, 0x00])
        writer.writeBit(true)
        #expect(writer.bytes == [0xAB, 0x80])
    }

    @Test func unalignedWriteByteStraddlesTwoBytes() {
        var writer = BitWriter()
        writer.writeBit(true)
        writer.writeByte(0xFF)
        #expect(writer.bytes == [0xFF, 0x80])
        #expect(writer.bitCount == 9)
    }

    @Test(arguments: [
        (UInt64(0b101), 3, [UInt8(0b1010_0000)]),
        (0xFFFF_FFFF_FFFF_FF05, 3, [0b1010_0000]),
        (0x1234, 16, [0x12, 0x34, 0x00]),
        (0x0123_4567_89AB_CDEF, 64, [0x01, 0x23, 0x45, 0x67, 0x89, 0xAB, 0xCD, 0xEF, 0x00]),
        (0x3FFF, 14, [0xFF, 0xFC]),
        (0xFF, 0, []),
    ] as [(UInt64, Int, [UInt8])])
    func writeBitsKeepsOnlyTheLowBits(value: UInt64, count: Int, expected: [UInt8]) {
        var writer = BitWriter()
        writer.writeBits(value, count: count)
        #expect(writer.bytes == expected)
    }

    @Test func prefixIsKeptAndHeaderCanBePatched() {
        var writer = BitWriter(prefix: [0, 0], reservingCapacity: 64)
        writer.writeBit(true)
        writer.overwriteUInt16BE(0x0102, at: 0)
        writer.overwriteUInt16BE(0xFFFF, at: 2)  // out of range: ignored
        #expect(writer.bytes == [0x01, 0x02, 0x80])
    }
}
