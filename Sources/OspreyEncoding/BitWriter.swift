/// Append-only MSB-first bit stream, byte-compatible with Prometheus'
/// `tsdb/chunkenc` `bstream` writer.
///
/// Like `bstream`, a whole-byte write (`writeByte`, or the byte part of
/// `writeBits`) leaves a trailing zero byte whose 8 bits are free for the next
/// write; `bytes` includes that byte, exactly as Prometheus' chunk bytes do.
/// Amortised O(1) per bit; the only allocation is the growing byte array.
package struct BitWriter: Sendable {
    /// The stream written so far (including any partially filled last byte).
    package private(set) var bytes: [UInt8]
    /// Free bits at the low end of the last byte (0 means start a new byte).
    private var freeBits: Int = 0

    /// Creates an empty stream.
    package init() {
        bytes = []
    }

    /// Creates a stream that starts with `prefix` (e.g. a header); the next
    /// bit goes into a new byte. `reservingCapacity` pre-sizes the storage.
    package init(prefix: [UInt8], reservingCapacity capacity: Int = 0) {
        bytes = prefix
        bytes.reserveCapacity(capacity)
    }

    /// Number of bits written, counting any prefix bytes as 8 bits each.
    package var bitCount: Int { bytes.count * 8 - freeBits }

    /// Storage grows by this many bytes at a time, not by doubling: open head chunks live for
    /// hours, and doubling left up to half of each one's storage unused.
    static let growthBytes = 64

    private mutating func appendByte(_ byte: UInt8) {
        if bytes.count == bytes.capacity { bytes.reserveCapacity(bytes.count + Self.growthBytes) }
        bytes.append(byte)
    }

    /// Appends one bit (`true` = 1).
    package mutating func writeBit(_ bit: Bool) {
        if freeBits == 0 {
            appendByte(0)
            freeBits = 8
        }
        if bit {
            bytes[bytes.count - 1] |= UInt8(1) << (freeBits - 1)
        }
        freeBits -= 1
    }

    /// Appends 8 bits, most significant first (always adds one byte, as `bstream`).
    package mutating func writeByte(_ b: UInt8) {
        if freeBits == 0 {
            appendByte(0)
            freeBits = 8
        }
        bytes[bytes.count - 1] |= b >> (8 - freeBits)
        appendByte(UInt8(truncatingIfNeeded: UInt16(b) << freeBits))
    }

    /// Appends the `count` low bits of `value`, most significant first.
    ///
    /// Higher bits of `value` are ignored; `count` is clamped to 0...64.
    package mutating func writeBits(_ value: UInt64, count: Int) {
        var n = min(max(count, 0), 64)
        var u = n == 0 ? 0 : value << (64 - n)
        while n >= 8 {
            writeByte(UInt8(truncatingIfNeeded: u >> 56))
            u <<= 8
            n -= 8
        }
        while n > 0 {
            writeBit((u >> 63) == 1)
            u <<= 1
            n -= 1
        }
    }

    /// Overwrites 2 bytes at `index` with `value` big-endian (for headers).
    ///
    /// Ignored if `index..<index+2` is outside the stream. O(1).
    package mutating func overwriteUInt16BE(_ value: UInt16, at index: Int) {
        guard index >= 0, index + 2 <= bytes.count else { return }
        bytes[index] = UInt8(truncatingIfNeeded: value >> 8)
        bytes[index + 1] = UInt8(truncatingIfNeeded: value)
    }
}
