/// Builds a Prometheus XOR chunk (chunk encoding 1, Gorilla-style), producing
/// bytes identical to Prometheus' `tsdb/chunkenc/xor.go` appender.
///
/// Layout: 2-byte big-endian sample count; sample 0 as a zig-zag varint
/// timestamp plus the raw 64 float bits; sample 1 as a uvarint timestamp delta
/// plus an XOR value; later samples as a bucketed delta-of-delta plus an XOR
/// value. Floats are stored bit-exactly (NaN payloads survive). At most
/// `maxSamples` samples. Amortised O(1) per sample; allocation is only the
/// growing output.
package struct XORChunkEncoder: Sendable {
    /// Largest number of samples the 16-bit header can count.
    package static let maxSamples = Int(UInt16.max)

    private var writer = BitWriter(prefix: [0, 0], reservingCapacity: 128)
    /// Number of samples appended so far.
    package private(set) var count: Int = 0
    private var lastTimestamp: Int64 = 0
    private var lastValueBits: UInt64 = 0
    private var lastDelta: UInt64 = 0
    /// Leading zeros of the current XOR window; 0xFF means "no window yet".
    private var leading: UInt8 = 0xFF
    private var trailing: UInt8 = 0

    /// Creates an empty chunk (bytes `[0, 0]`).
    package init() {}

    /// The chunk bytes, including the 2-byte count header. O(1) (copy-on-write).
    package var bytes: [UInt8] { writer.bytes }

    /// True when `count == maxSamples`; further appends are refused.
    package var isFull: Bool { count >= Self.maxSamples }

    /// Appends one sample; timestamps should be non-decreasing (Prometheus
    /// order) but any `Int64` round-trips, deltas wrap like Go's.
    ///
    /// Returns `false` and leaves the chunk unchanged if it is full.
    @discardableResult
    package mutating func append(timestampMs: Int64, value: Double) -> Bool {
        guard !isFull else { return false }
        let bits = value.bitPattern
        var delta: UInt64 = 0
        switch count {
        case 0:
            writeVarintBytes(Varint.zigZag(timestampMs))
            writer.writeBits(bits, count: 64)
        case 1:
            delta = UInt64(bitPattern: timestampMs &- lastTimestamp)
            writeVarintBytes(delta)
            writeValue(bits)
        default:
            delta = UInt64(bitPattern: timestampMs &- lastTimestamp)
            let dod = Int64(bitPattern: delta &- lastDelta)
            if dod == 0 {
                writer.writeBit(false)
            } else if Self.fits(dod, bits: 14) {
                writer.writeBits(0b10, count: 2)
                writer.writeBits(UInt64(bitPattern: dod), count: 14)
            } else if Self.fits(dod, bits: 17) {
                writer.writeBits(0b110, count: 3)
                writer.writeBits(UInt64(bitPattern: dod), count: 17)
            } else if Self.fits(dod, bits: 20) {
                writer.writeBits(0b1110, count: 4)
                writer.writeBits(UInt64(bitPattern: dod), count: 20)
            } else {
                writer.writeBits(0b1111, count: 4)
                writer.writeBits(UInt64(bitPattern: dod), count: 64)
            }
            writeValue(bits)
        }
        lastTimestamp = timestampMs
        lastValueBits = bits
        lastDelta = delta
        count += 1
        writer.overwriteUInt16BE(UInt16(truncatingIfNeeded: count), at: 0)
        return true
    }

    /// Prometheus' `bitRange`: `-(2^(n-1) - 1) <= x <= 2^(n-1)` (asymmetric on purpose).
    static func fits(_ x: Int64, bits n: Int) -> Bool {
        let half = Int64(1) << (n - 1)
        return -(half - 1) <= x && x <= half
    }

    /// Writes LEB128 bytes through the bit writer (unaligned, like `bstream.writeByte`).
    private mutating func writeVarintBytes(_ value: UInt64) {
        var v = value
        while v >= 0x80 {
            writer.writeByte(UInt8(truncatingIfNeeded: v) | 0x80)
            v >>= 7
        }
        writer.writeByte(UInt8(truncatingIfNeeded: v))
    }

    /// Writes the XOR of `bits` with the previous value's bits.
    private mutating func writeValue(_ bits: UInt64) {
        let xor = bits ^ lastValueBits
        guard xor != 0 else {
            writer.writeBit(false)
            return
        }
        writer.writeBit(true)
        let lead = UInt8(min(xor.leadingZeroBitCount, 31))
        let trail = UInt8(xor.trailingZeroBitCount)
        if leading != 0xFF && lead >= leading && trail >= trailing {
            writer.writeBit(false)
            writer.writeBits(xor >> UInt64(trailing), count: 64 - Int(leading) - Int(trailing))
        } else {
            leading = lead
            trailing = trail
            writer.writeBit(true)
            writer.writeBits(UInt64(lead), count: 5)
            let significant = 64 - Int(lead) - Int(trail)
            // 64 significant bits are stored as 0 in the 6-bit field.
            writer.writeBits(UInt64(significant), count: 6)
            writer.writeBits(xor >> UInt64(trail), count: significant)
        }
    }
}
