/// Appends protobuf wire data to a byte array.
package struct ProtoWriter {
    /// The encoded bytes.
    package var bytes: [UInt8] = []

    /// An empty writer.
    package init() {}

    /// A varint.
    package mutating func writeVarint(_ value: UInt64) {
        var remaining = value
        while remaining >= 0x80 {
            bytes.append(UInt8(truncatingIfNeeded: remaining) | 0x80)
            remaining >>= 7
        }
        bytes.append(UInt8(remaining))
    }

    /// A field key.
    package mutating func writeTag(_ field: Int, _ wireType: WireType) {
        writeVarint(UInt64(field) << 3 | UInt64(wireType.rawValue))
    }

    /// A varint field (`int64`, `uint64`, enums); zero is omitted as proto3 does.
    package mutating func writeVarintField(_ field: Int, _ value: UInt64) {
        guard value != 0 else { return }
        writeTag(field, .varint)
        writeVarint(value)
    }

    /// An `int64` field.
    package mutating func writeInt64Field(_ field: Int, _ value: Int64) {
        writeVarintField(field, UInt64(bitPattern: value))
    }

    /// A `double` field, written even when zero only if `always` (proto3 omits 0).
    package mutating func writeDoubleField(_ field: Int, _ value: Double) {
        guard value.bitPattern != 0 else { return }
        writeTag(field, .fixed64)
        var little = value.bitPattern.littleEndian
        withUnsafeBytes(of: &little) { bytes.append(contentsOf: $0) }
    }

    /// A string field; empty strings are omitted.
    package mutating func writeStringField(_ field: Int, _ value: String) {
        guard !value.isEmpty else { return }
        writeTag(field, .lengthDelimited)
        writeVarint(UInt64(value.utf8.count))
        bytes.append(contentsOf: value.utf8)
    }

    /// A nested message built by `body`.
    package mutating func writeMessageField(_ field: Int, _ body: (inout ProtoWriter) -> Void) {
        var nested = ProtoWriter()
        body(&nested)
        writeTag(field, .lengthDelimited)
        writeVarint(UInt64(nested.bytes.count))
        bytes.append(contentsOf: nested.bytes)
    }
}
