import OspreyEncoding
import Testing

struct ByteReaderTests {
    private static let sample: [UInt8] = [0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0A, 0x0B, 0x0C]

    @Test func fixedWidthReadsHonourByteOrder() throws {
        try Self.sample.withUnsafeBytes { raw throws in
            var reader = ByteReader(raw)
            #expect(try reader.readUInt8() == 0x01)
            #expect(try reader.readUInt16BE() == 0x0203)
            #expect(try reader.readUInt32BE() == 0x0405_0607)
            #expect(reader.offset == 7)
            #expect(reader.remaining == 5)
            try reader.skip(1)
            #expect(try reader.readUInt32LE() == 0x0C0B_0A09)
            #expect(reader.isAtEnd)
        }
        try Self.sample.withUnsafeBytes { raw throws in
            var reader = ByteReader(raw)
            #expect(try reader.readUInt64BE() == 0x0102_0304_0506_0708)
            reader = ByteReader(raw)
            #expect(try reader.readUInt64LE() == 0x0807_0605_0403_0201)
        }
    }

    @Test func readBytesReturnsSubrangeWithoutCopying() throws {
        try Self.sample.withUnsafeBytes { raw throws in
            var reader = ByteReader(raw)
            try reader.skip(2)
            let run = try reader.readBytes(3)
            #expect(Array(run) == [0x03, 0x04, 0x05])
            #expect(run.baseAddress == raw.baseAddress.map { $0 + 2 })
            #expect(try reader.readBytes(0).isEmpty)
            #expect(reader.offset == 5)
        }
    }

    @Test(arguments: [5, 7, 11, 12])
    func truncatedReadReportsOffsetOfTheFieldPlusBase(consumed: Int) throws {
        try Self.sample.withUnsafeBytes { raw throws in
            var reader = ByteReader(raw, baseOffset: 100)
            try reader.skip(consumed)
            let error = #expect(throws: EncodingError.self) { _ = try reader.readUInt64BE() }
            #expect(error?.code == .truncated)
            #expect(error?.offset == 100 + consumed)
            #expect(reader.offset == consumed, "a failed read must not advance")
        }
    }

    @Test func everyReadFailsCleanlyOnEmptyInput() {
        let empty = UnsafeRawBufferPointer(start: nil, count: 0)
        var reader = ByteReader(empty, baseOffset: 5)
        #expect(reader.isAtEnd)
        #expect(reader.remaining == 0)
        #expect(throws: EncodingError.self) { _ = try reader.readUInt8() }
        #expect(throws: EncodingError.self) { _ = try reader.readUInt32LE() }
        #expect(throws: EncodingError.self) { _ = try reader.readUVarint() }
        #expect(throws: EncodingError.self) { _ = try reader.readBytes(1) }
        #expect((try? reader.readBytes(0))?.isEmpty == true)
    }

    @Test func negativeByteCountIsCorrupt() {
        Self.sample.withUnsafeBytes { raw in
            var reader = ByteReader(raw, baseOffset: 10)
            _ = try? reader.readUInt16BE()
            let error = #expect(throws: EncodingError.self) { _ = try reader.readBytes(-1) }
            #expect(error?.code == .corrupt)
            #expect(error?.offset == 12)
        }
    }

    @Test func varintErrorsReportTheVarintStart() {
        let bytes: [UInt8] = [0x05, 0x80, 0x80]
        bytes.withUnsafeBytes { raw in
            var reader = ByteReader(raw, baseOffset: 1000)
            #expect((try? reader.readUVarint()) == 5)
            let error = #expect(throws: EncodingError.self) { _ = try reader.readUVarint() }
            #expect(error?.code == .truncated)
            #expect(error?.offset == 1001)
            #expect(reader.offset == 1)
        }
    }
}
