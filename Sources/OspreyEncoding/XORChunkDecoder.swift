/// Iterates the samples of a Prometheus XOR chunk (chunk encoding 1).
///
/// Usage: `var it = try XORChunkDecoder(bytes); while try it.next() { use(it.timestampMs, it.value) }`.
/// Reads exactly the sample count from the 2-byte header; malformed input
/// throws `EncodingError` (offsets are byte indices into the chunk) and never
/// traps. O(1) per sample, no allocation beyond holding the chunk array.
package struct XORChunkDecoder: Sendable {
    private var reader: BitReader
    /// Number of samples the header declares.
    package let count: Int
    /// Number of samples decoded so far.
    package private(set) var decodedCount: Int = 0
    /// Timestamp of the current sample, in milliseconds (valid after `next()` returned true).
    package private(set) var timestampMs: Int64 = 0
    /// Raw IEEE-754 bits of the current value (NaN payloads preserved).
    package private(set) var valueBits: UInt64 = 0
    private var delta: UInt64 = 0
    private var leading: Int = 0
    private var trailing: Int = 0

    /// Opens a chunk; throws `.truncated` if it is shorter than its 2-byte header.
    package init(_ bytes: [UInt8]) throws(EncodingError) {
        guard bytes.count >= 2 else {
            throw .truncated("XOR chunk shorter than its 2-byte header", at: 0)
        }
        count = Int(bytes[0]) << 8 | Int(bytes[1])
        reader = BitReader(bytes, startOffset: 2)
    }

    /// A decoder of an empty chunk (no samples), for holders that need a value before a chunk.
    package static let empty = XORChunkDecoder()

    private init() {
        count = 0
        reader = BitReader([0, 0], startOffset: 2)
    }

    /// Value of the current sample (bit-exact from `valueBits`).
    package var value: Double { Double(bitPattern: valueBits) }

    /// Advances and returns the next sample (timestamp, raw value bits), nil after the last one.
    /// One mutating call per sample: a caller holding the decoder in a class reads nothing
    /// through getters (each of which would copy the decoder).
    package mutating func nextSample() throws(EncodingError) -> (timestampMs: Int64, valueBits: UInt64)? {
        guard try next() else { return nil }
        return (timestampMs, valueBits)
    }

    /// Decodes up to `capacity` of the remaining samples into `out`, 16 bytes each: the
    /// timestamp (Int64) then the value's bits (UInt64), in native byte order (the layout of a
    /// `(timestampMs, value)` struct of those two fields). Stops after the last sample or at
    /// the first malformed bit, as a reader skipping the rest of a corrupt chunk; returns how
    /// many samples it wrote. The bulk form of ``nextSample()``: after the first two samples
    /// (varints), the loop peeks 57+ bits at a time from an absolute bit position and keeps
    /// the whole state in registers.
    package mutating func decode(into out: UnsafeMutableRawPointer, capacity: Int) -> Int {
        var written = 0
        while written < capacity && decodedCount < 2 && decodedCount < count {
            guard let sample = try? nextSample() else {
                decodedCount = count  // malformed: nothing more comes out of this chunk
                return written
            }
            Self.store(sample.timestampMs, sample.valueBits, at: written, in: out)
            written += 1
        }
        guard written < capacity && decodedCount >= 2 && decodedCount < count else { return written }
        let bytes = reader.bytes
        let limit = min(capacity - written, count - decodedCount)
        let (decoded, state) = bytes.withUnsafeBufferPointer { buffer in
            Self.decodeFast(buffer, from: BulkState(bit: reader.bitOffset, timestampMs: timestampMs, delta: delta, valueBits: valueBits, leading: leading, trailing: trailing), limit: limit, into: out + written * 16)
        }
        written += decoded
        decodedCount += decoded
        timestampMs = state.timestampMs
        delta = state.delta
        valueBits = state.valueBits
        leading = state.leading
        trailing = state.trailing
        if decoded < limit {
            // A malformed sample stopped the loop: so does the sample-by-sample reader.
            decodedCount = count
        } else {
            reader.seek(toBit: state.bit)
        }
        return written
    }

    /// Decoder state between samples, for the bulk loop.
    private struct BulkState {
        var bit: Int
        var timestampMs: Int64
        var delta: UInt64
        var valueBits: UInt64
        var leading: Int
        var trailing: Int
    }

    @inline(__always)
    private static func store(_ timestampMs: Int64, _ valueBits: UInt64, at index: Int, in out: UnsafeMutableRawPointer) {
        out.storeBytes(of: timestampMs, toByteOffset: index &* 16, as: Int64.self)
        out.storeBytes(of: valueBits, toByteOffset: index &* 16 &+ 8, as: UInt64.self)
    }

    /// Samples from the third on, as ``next()`` reads them, until `limit` samples or a
    /// malformed one (bits past the end, or an impossible XOR window), which is not written.
    private static func decodeFast(_ bytes: UnsafeBufferPointer<UInt8>, from start: BulkState, limit: Int, into out: UnsafeMutableRawPointer) -> (Int, BulkState) {
        guard let base = bytes.baseAddress else { return (0, start) }
        let endBit = bytes.count &* 8
        // The state in locals (registers), written back once at the end.
        var timestampMs = start.timestampMs
        var delta = start.delta
        var valueBits = start.valueBits
        var leading = start.leading
        var trailing = start.trailing
        var committedBit = start.bit
        var cursor = BitCursor(base: base, byteCount: bytes.count, bit: start.bit)
        var written = 0
        while written < limit {
            // Delta of delta: 0, 10+14 bits, 110+17, 1110+20, 1111+64.
            let head = cursor.peek()
            var dod: Int64 = 0
            if head &>> 63 != 0 {
                let ones = min((~head).leadingZeroBitCount, 4)
                if ones < 4 {
                    let size = ones == 1 ? 14 : ones == 2 ? 17 : 20
                    // Prefix and payload fit in the 57+ peeked bits.
                    let bits = (head &<< UInt64(ones &+ 1)) &>> UInt64(64 &- size)
                    cursor.bit &+= ones &+ 1 &+ size
                    dod = signed(bits, size)
                } else {
                    cursor.bit &+= 4
                    dod = Int64(bitPattern: cursor.read(64))
                }
            } else {
                cursor.bit &+= 1
            }
            delta = UInt64(bitPattern: Int64(bitPattern: delta) &+ dod)
            let nextTimestampMs = timestampMs &+ Int64(bitPattern: delta)
            // Value: 0 same, 10 XOR in the previous window, 11 + 5 + 6 bits new window.
            let control = cursor.peek()
            if control &>> 63 == 0 {
                cursor.bit &+= 1
            } else {
                if (control &<< 1) &>> 63 != 0 {
                    let lead = Int((control &>> 57) & 0x1F)
                    var significant = Int((control &>> 51) & 0x3F)
                    if significant == 0 { significant = 64 }
                    guard lead &+ significant <= 64 else { break }
                    leading = lead
                    trailing = 64 &- lead &- significant
                    cursor.bit &+= 13
                } else {
                    cursor.bit &+= 2
                }
                valueBits ^= cursor.read(64 &- leading &- trailing) &<< UInt64(trailing)
            }
            guard cursor.bit <= endBit else { break }
            timestampMs = nextTimestampMs
            store(timestampMs, valueBits, at: written, in: out)
            written &+= 1
            committedBit = cursor.bit
        }
        return (written, BulkState(bit: committedBit, timestampMs: timestampMs, delta: delta, valueBits: valueBits, leading: leading, trailing: trailing))
    }

    /// A read position in a bit stream, by absolute bit.
    private struct BitCursor {
        let base: UnsafePointer<UInt8>
        let byteCount: Int
        var bit: Int

        /// The 64 bits from `bit` on, MSB first; at least 57 of them are stream bits (zeros
        /// past the end).
        @inline(__always)
        func peek() -> UInt64 {
            let index = bit &>> 3
            guard index &+ 8 <= byteCount else { return peekNearEnd() }
            return UInt64(bigEndian: UnsafeRawPointer(base + index).loadUnaligned(as: UInt64.self)) &<< UInt64(bit & 7)
        }

        /// ``peek()`` within 8 bytes of the end: the missing bytes read as zeros (the last
        /// 8 bytes, shifted up).
        @inline(never)
        func peekNearEnd() -> UInt64 {
            let index = bit &>> 3
            if byteCount >= 8 {
                let shift = (index &- (byteCount &- 8)) &* 8
                guard shift < 64 else { return 0 }
                let last = UInt64(bigEndian: UnsafeRawPointer(base + (byteCount &- 8)).loadUnaligned(as: UInt64.self))
                return (last &<< UInt64(shift)) &<< UInt64(bit & 7)
            }
            var word: UInt64 = 0
            for i in 0..<8 {
                word = word &<< 8 | (index &+ i < byteCount ? UInt64(base[index &+ i]) : 0)
            }
            return word &<< UInt64(bit & 7)
        }

        /// `n` bits (1...64).
        @inline(__always)
        mutating func read(_ n: Int) -> UInt64 {
            guard n <= 56 else { return readWide(n) }
            let value = peek() &>> UInt64(64 &- n)
            bit &+= n
            return value
        }

        /// `n` bits (57...64), in two reads.
        @inline(never)
        mutating func readWide(_ n: Int) -> UInt64 {
            let high = peek() &>> 32
            bit &+= 32
            let low = peek() &>> UInt64(64 &- (n &- 32))
            bit &+= n &- 32
            return high &<< UInt64(n &- 32) | low
        }
    }

    /// `bits` read as a two's complement number of `size` bits, as Prometheus reads deltas
    /// of deltas (values above 2^(size-1) are negative).
    @inline(__always)
    private static func signed(_ bits: UInt64, _ size: Int) -> Int64 {
        bits > UInt64(1) &<< UInt64(size &- 1) ? Int64(bitPattern: bits &- (UInt64(1) &<< UInt64(size))) : Int64(bitPattern: bits)
    }

    /// Advances to the next sample; returns `false` after the last one.
    ///
    /// Throws `.truncated` if the stream ends early, `.overflow` for a bad
    /// varint and `.corrupt` for an impossible XOR window.
    package mutating func next() throws(EncodingError) -> Bool {
        guard decodedCount < count else { return false }
        switch decodedCount {
        case 0:
            timestampMs = try reader.readVarint()
            valueBits = try reader.readBits(64)
        case 1:
            delta = try reader.readUVarint()
            timestampMs = timestampMs &+ Int64(bitPattern: delta)
            try readValue()
        default:
            let dod = try readDeltaOfDelta()
            delta = UInt64(bitPattern: Int64(bitPattern: delta) &+ dod)
            timestampMs = timestampMs &+ Int64(bitPattern: delta)
            try readValue()
        }
        decodedCount += 1
        return true
    }

    private mutating func readDeltaOfDelta() throws(EncodingError) -> Int64 {
        var prefix = 0
        while prefix < 4, try reader.readBit() {
            prefix += 1
        }
        let size: Int
        switch prefix {
        case 0: return 0
        case 1: size = 14
        case 2: size = 17
        case 3: size = 20
        default: return Int64(bitPattern: try reader.readBits(64))
        }
        var bits = try reader.readBits(size)
        // Values above 2^(size-1) are negative (two's complement in `size` bits).
        if bits > UInt64(1) << UInt64(size - 1) {
            bits = bits &- (UInt64(1) << UInt64(size))
        }
        return Int64(bitPattern: bits)
    }

    private mutating func readValue() throws(EncodingError) {
        guard try reader.readBit() else { return }
        if try reader.readBit() {
            let windowOffset = reader.byteOffset
            let lead = Int(try reader.readBits(5))
            var significant = Int(try reader.readBits(6))
            if significant == 0 { significant = 64 }
            guard lead + significant <= 64 else {
                throw .corrupt("XOR window of \(lead) leading zeros and \(significant) bits exceeds 64", at: windowOffset)
            }
            leading = lead
            trailing = 64 - lead - significant
        }
        let significant = 64 - leading - trailing
        let bits = try reader.readBits(significant)
        valueBits ^= bits << UInt64(trailing)
    }
}
