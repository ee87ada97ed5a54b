/// Protobuf wire types.
package enum WireType: UInt8, Sendable {
    case varint = 0, fixed64 = 1, lengthDelimited = 2, startGroup = 3, endGroup = 4, fixed32 = 5
}

/// A bounds-checked protobuf wire reader over borrowed bytes (the caller keeps them alive).
/// Every error reports the byte offset where decoding failed.
package struct ProtoReader {
    private let base: UnsafeRawBufferPointer
    private let end: Int
    /// Current position, relative to the start of the buffer the reader was made from.
    package private(set) var offset: Int
    private let origin: Int

    /// Reads all of `bytes`; `origin` is added to reported offsets.
    package init(_ bytes: UnsafeRawBufferPointer, origin: Int = 0) {
        base = bytes
        end = bytes.count
        offset = 0
        self.origin = origin
    }

    private init(base: UnsafeRawBufferPointer, start: Int, end: Int, origin: Int) {
        self.base = base
        self.offset = start
        self.end = end
        self.origin = origin
    }

    /// Whether every byte was consumed.
    package var isAtEnd: Bool { offset >= end }

    private func error(_ message: String, at position: Int? = nil) -> IngestError {
        IngestError(code: .badRequest, message: "protobuf: \(message)", offset: origin + (position ?? offset))
    }

    /// The next field's number and wire type.
    @inline(__always)
    package mutating func readTag() throws(IngestError) -> (field: Int, wireType: WireType) {
        let start = offset
        let key = try readVarint()
        guard let type = WireType(rawValue: UInt8(key & 7)), key >> 3 > 0, key >> 3 <= 0x1FFF_FFFF else {
            throw error("invalid field key \(key)", at: start)
        }
        return (Int(key >> 3), type)
    }

    /// A base-128 varint (at most 10 bytes).
    @inline(__always)
    package mutating func readVarint() throws(IngestError) -> UInt64 {
        var result: UInt64 = 0
        var shift: UInt64 = 0
        let start = offset
        while offset < end {
            let byte = base[offset]
            offset += 1
            if shift == 63 && byte > 1 { throw error("varint overflows 64 bits", at: start) }
            result |= UInt64(byte & 0x7F) << shift
            if byte < 0x80 { return result }
            shift += 7
            if shift > 63 { throw error("varint longer than 10 bytes", at: start) }
        }
        throw error("truncated varint", at: start)
    }

    /// A zig-zag encoded signed varint (`sint32`/`sint64`).
    package mutating func readSignedVarint() throws(IngestError) -> Int64 {
        let raw = try readVarint()
        return Int64(bitPattern: (raw >> 1) ^ (0 &- (raw & 1)))
    }

    /// A zig-zag encoded `sint32`: as protobuf decoders do, only the low 32 bits of the varint count.
    package mutating func readSignedVarint32() throws(IngestError) -> Int32 {
        let raw = UInt32(truncatingIfNeeded: try readVarint())
        return Int32(bitPattern: (raw >> 1) ^ (0 &- (raw & 1)))
    }

    /// A little-endian 64-bit value (`double`, `fixed64`).
    @inline(__always)
    package mutating func readFixed64() throws(IngestError) -> UInt64 {
        guard end - offset >= 8 else { throw error("truncated fixed64") }
        let value = base.loadUnaligned(fromByteOffset: offset, as: UInt64.self)
        offset += 8
        return UInt64(littleEndian: value)
    }

    /// A little-endian 32-bit value.
    package mutating func readFixed32() throws(IngestError) -> UInt32 {
        guard end - offset >= 4 else { throw error("truncated fixed32") }
        let value = base.loadUnaligned(fromByteOffset: offset, as: UInt32.self)
        offset += 4
        return UInt32(littleEndian: value)
    }

    /// A `double`.
    @inline(__always)
    package mutating func readDouble() throws(IngestError) -> Double {
        Double(bitPattern: try readFixed64())
    }

    /// The range of a length-delimited field's payload, skipping past it.
    @inline(__always)
    package mutating func readLengthDelimitedRange() throws(IngestError) -> Range<Int> {
        let start = offset
        let length = try readVarint()
        guard length <= UInt64(end - offset) else { throw error("length \(length) runs past the end of the message", at: start) }
        let range = offset..<(offset + Int(length))
        offset += Int(length)
        return range
    }

    /// A reader over a nested message.
    @inline(__always)
    package mutating func readMessage() throws(IngestError) -> ProtoReader {
        let range = try readLengthDelimitedRange()
        return ProtoReader(base: base, start: range.lowerBound, end: range.upperBound, origin: origin)
    }

    /// A UTF-8 string; invalid UTF-8 is an error.
    package mutating func readString() throws(IngestError) -> String {
        let range = try readLengthDelimitedRange()
        let bytes = UnsafeRawBufferPointer(rebasing: base[range]).assumingMemoryBound(to: UInt8.self)
        // ASCII (almost every label) needs no validation; `String(validating:)` is much slower.
        var ascii = true
        for byte in bytes where byte >= 0x80 {
            ascii = false
            break
        }
        if ascii { return String(decoding: bytes, as: UTF8.self) }
        guard let string = String(validating: bytes, as: UTF8.self) else {
            throw error("invalid UTF-8 in string", at: range.lowerBound)
        }
        return string
    }

    /// The raw bytes of a range previously returned by this reader.
    package func bytes(_ range: Range<Int>) -> UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(rebasing: base[range])
    }

    /// Skips a field of the given wire type. Groups are rejected (no Prometheus message uses them).
    package mutating func skip(_ wireType: WireType) throws(IngestError) {
        switch wireType {
        case .varint: _ = try readVarint()
        case .fixed64: _ = try readFixed64()
        case .fixed32: _ = try readFixed32()
        case .lengthDelimited: _ = try readLengthDelimitedRange()
        case .startGroup, .endGroup: throw error("groups are not supported")
        }
    }

    /// Reads a repeated scalar that may be packed or not, calling `body` per element.
    package mutating func readRepeated(
        _ wireType: WireType, element: WireType, _ body: (inout ProtoReader) throws(IngestError) -> Void
    ) throws(IngestError) {
        if wireType == .lengthDelimited && element != .lengthDelimited {
            var packed = try readMessage()
            while !packed.isAtEnd { try body(&packed) }
        } else if wireType == element {
            try body(&self)
        } else {
            throw error("wire type \(wireType) where \(element) was expected")
        }
    }

    /// Throws unless `actual` is `expected`.
    @inline(__always)
    package func expect(_ actual: WireType, _ expected: WireType, field: Int) throws(IngestError) {
        guard actual == expected else { throw error("field \(field) has wire type \(actual), expected \(expected)") }
    }
}
