extension Array where Element == UInt8 {
    /// Appends `v` as 2 big-endian bytes.
    package mutating func appendUInt16BE(_ v: UInt16) {
        append(UInt8(truncatingIfNeeded: v >> 8))
        append(UInt8(truncatingIfNeeded: v))
    }

    /// Appends `v` as 4 big-endian bytes.
    package mutating func appendUInt32BE(_ v: UInt32) {
        append(UInt8(truncatingIfNeeded: v >> 24))
        append(UInt8(truncatingIfNeeded: v >> 16))
        append(UInt8(truncatingIfNeeded: v >> 8))
        append(UInt8(truncatingIfNeeded: v))
    }

    /// Appends `v` as 8 big-endian bytes.
    package mutating func appendUInt64BE(_ v: UInt64) {
        appendUInt32BE(UInt32(truncatingIfNeeded: v >> 32))
        appendUInt32BE(UInt32(truncatingIfNeeded: v))
    }

    /// Appends `v` as 4 little-endian bytes.
    package mutating func appendUInt32LE(_ v: UInt32) {
        appendUInt32BE(v.byteSwapped)
    }

    /// Appends `v` as 8 little-endian bytes.
    package mutating func appendUInt64LE(_ v: UInt64) {
        appendUInt64BE(v.byteSwapped)
    }
}
