/// LEB128 variable-length integers, byte-compatible with Go's
/// `encoding/binary` `PutUvarint`/`PutVarint` (signed values are zig-zag
/// encoded). Decoding lives in `ByteReader.readUVarint()`/`readVarint()`.
package enum Varint {
    /// Longest encoding of a 64-bit value, in bytes (Go's `MaxVarintLen64`).
    package static let maxLength = 10

    /// Appends the unsigned LEB128 encoding of `value` (1–10 bytes).
    package static func appendUVarint(_ value: UInt64, to buffer: inout [UInt8]) {
        var v = value
        while v >= 0x80 {
            buffer.append(UInt8(truncatingIfNeeded: v) | 0x80)
            v >>= 7
        }
        buffer.append(UInt8(truncatingIfNeeded: v))
    }

    /// Appends the zig-zag LEB128 encoding of `value` (1–10 bytes).
    package static func appendVarint(_ value: Int64, to buffer: inout [UInt8]) {
        appendUVarint(zigZag(value), to: &buffer)
    }

    /// Number of bytes `appendUVarint` writes for `value` (1–10).
    package static func uvarintSize(_ value: UInt64) -> Int {
        (64 - (value | 1).leadingZeroBitCount + 6) / 7
    }

    /// Number of bytes `appendVarint` writes for `value` (1–10).
    package static func varintSize(_ value: Int64) -> Int {
        uvarintSize(zigZag(value))
    }

    /// Zig-zag maps a signed value to unsigned: 0, -1, 1, -2 … → 0, 1, 2, 3 ….
    package static func zigZag(_ value: Int64) -> UInt64 {
        let shifted = UInt64(bitPattern: value) << 1
        return value < 0 ? ~shifted : shifted
    }

    /// Inverse of `zigZag(_:)`.
    package static func unZigZag(_ value: UInt64) -> Int64 {
        let half = Int64(bitPattern: value >> 1)
        return (value & 1) != 0 ? ~half : half
    }
}
