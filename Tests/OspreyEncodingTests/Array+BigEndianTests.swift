import OspreyEncoding
import Testing

struct ArrayBigEndianTests {
    @Test func appendsMostSignificantByteFirst() {
        var out: [UInt8] = [0xEE]
        out.appendUInt16BE(0x0102)
        out.appendUInt32BE(0x0304_0506)
        out.appendUInt64BE(0x0708_090A_0B0C_0D0E)
        #expect(out == [0xEE, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0A, 0x0B, 0x0C, 0x0D, 0x0E])
    }

    @Test func littleEndianAppendsReverseTheOrder() {
        var out: [UInt8] = []
        out.appendUInt32LE(0x0102_0304)
        out.appendUInt64LE(0x0102_0304_0506_0708)
        #expect(out == [0x04, 0x03, 0x02, 0x01, 0x08, 0x07, 0x06, 0x05, 0x04, 0x03, 0x02, 0x01])
    }

    @Test func appendsRoundTripThroughByteReader() throws {
        var rng = SeededGenerator(seed: 4)
        let values = (0..<100).map { _ in rng.next() }
        var out: [UInt8] = []
        for v in values {
            out.appendUInt16BE(UInt16(truncatingIfNeeded: v))
            out.appendUInt32BE(UInt32(truncatingIfNeeded: v))
            out.appendUInt64BE(v)
        }
        try out.withUnsafeBytes { raw throws in
            var reader = ByteReader(raw)
            for v in values {
                #expect(try reader.readUInt16BE() == UInt16(truncatingIfNeeded: v))
                #expect(try reader.readUInt32BE() == UInt32(truncatingIfNeeded: v))
                #expect(try reader.readUInt64BE() == v)
            }
            #expect(reader.isAtEnd)
        }
    }
}
