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
    /// many samples it wrote. The bulk form of ``nextSample()``: one call per chunk keeps the
    /// decoder state in registers.
    package mutating func decode(into out: UnsafeMutableRawPointer, capacity: Int) -> Int {
        var written = 0
        while written < capacity, let sample = try? nextSample() {
            out.storeBytes(of: sample.timestampMs, toByteOffset: written &* 16, as: Int64.self)
            out.storeBytes(of: sample.valueBits, toByteOffset: written &* 16 &+ 8, as: UInt64.self)
            written += 1
        }
        return written
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
