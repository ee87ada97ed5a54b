@testable import OspreyIngest
import Testing

struct ProtoReaderTests {
    private func read<T>(_ bytes: [UInt8], _ body: (inout ProtoReader) throws(IngestError) -> T) throws -> T {
        try bytes.withUnsafeBytes { buffer throws(IngestError) in
            var reader = ProtoReader(buffer)
            return try body(&reader)
        }
    }

    @Test func writerAndReaderRoundTrip() throws {
        var writer = ProtoWriter()
        writer.writeInt64Field(1, -5)
        writer.writeDoubleField(2, 2.5)
        writer.writeStringField(3, "héllo")
        writer.writeMessageField(4) { $0.writeVarintField(1, 300) }
        let values = try read(writer.bytes) { reader throws(IngestError) in
            var out: [String] = []
            while !reader.isAtEnd {
                let (field, wire) = try reader.readTag()
                switch field {
                case 1: out.append(String(Int64(bitPattern: try reader.readVarint())))
                case 2: out.append(String(try reader.readDouble()))
                case 3: out.append(try reader.readString())
                case 4:
                    var nested = try reader.readMessage()
                    _ = try nested.readTag()
                    out.append(String(try nested.readVarint()))
                default: try reader.skip(wire)
                }
            }
            return out
        }
        #expect(values == ["-5", "2.5", "héllo", "300"])
    }

    @Test(arguments: [
        ([0x08, 0x80] as [UInt8], 1, "truncated varint"),
        ([0x0A, 0x05, 0x61], 1, "runs past the end"),
        ([0x09, 0x01, 0x02], 1, "truncated fixed64"),
        ([0x0B], 1, "groups"),
        ([0x08, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x7F], 1, "overflows"),
        ([0x00], 0, "invalid field key"),
    ])
    func malformedInputThrowsWithOffset(_ bytes: [UInt8], _ offset: Int, _ message: String) {
        do {
            _ = try read(bytes) { reader throws(IngestError) in
                while !reader.isAtEnd {
                    let (_, wire) = try reader.readTag()
                    try reader.skip(wire)
                }
            }
            Issue.record("expected an error")
        } catch let error as IngestError {
            #expect(error.offset == offset)
            #expect(error.message.contains(message), "\(error)")
        } catch {
            Issue.record("unexpected error \(error)")
        }
    }

    @Test func invalidUTF8StringsAreRejected() {
        #expect(throws: IngestError.self) {
            try read([0x0A, 0x02, 0xC3, 0x28]) { reader throws(IngestError) in
                _ = try reader.readTag()
                return try reader.readString()
            }
        }
    }
}
