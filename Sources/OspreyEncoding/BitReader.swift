/// MSB-first bit reader, the counterpart of `BitWriter` (Prometheus `bstreamReader`).
///
/// Owns a copy-on-write reference to its bytes. Reads refill a 64-bit buffer
/// 8 bytes at a time; every read is bounds-checked and throws `.truncated`
/// with the byte offset (in the original array) of the first unread bit.
package struct BitReader: Sendable {
    /// The stream.
    package let bytes: [UInt8]
    /// Index of the next byte to load into `buffer`.
    private var position: Int
    /// Loaded bits; the low `valid` bits are unread.
    private var buffer: UInt64 = 0
    private var valid: Int = 0

    /// Creates a reader over `bytes` starting at byte `startOffset` (error offsets are indices into `bytes`).
    package init(_ bytes: [UInt8], startOffset: Int = 0) {
        self.bytes = bytes
        self.position = min(max(startOffset, 0), bytes.count)
    }

    /// Creates a reader over a copy of `slice`; error offsets are relative to the slice start. O(n).
    package init(_ slice: ArraySlice<UInt8>) {
        self.init(Array(slice))
    }

    /// Byte offset of the next unread bit.
    package var byteOffset: Int { position - (valid + 7) / 8 }

    /// Bit offset of the next unread bit.
    package var bitOffset: Int { position * 8 - valid }

    /// Moves to bit `bit` (clamped to the stream), as if everything before it had been read.
    package mutating func seek(toBit bit: Int) {
        let target = min(max(bit, 0), bytes.count * 8)
        position = target / 8
        buffer = 0
        valid = 0
        if target % 8 != 0 {
            _ = try? readBits(target % 8)
        }
    }

    /// Unread bits left in the stream.
    package var remainingBits: Int { (bytes.count - position) * 8 + valid }

    /// Loads up to 8 more bytes into the buffer; throws `.truncated` if none remain.
    private mutating func refill() throws(EncodingError) {
        let left = bytes.count - position
        guard left > 0 else {
            throw .truncated("bit stream exhausted", at: bytes.count)
        }
        if left >= 8 {
            buffer = bytes.withUnsafeBytes {
                UInt64(bigEndian: $0.loadUnaligned(fromByteOffset: position, as: UInt64.self))
            }
            position += 8
            valid = 64
        } else {
            var b: UInt64 = 0
            for i in 0..<left {
                b = b << 8 | UInt64(bytes[position + i])
            }
            buffer = b
            position += left
            valid = left * 8
        }
    }

    /// Reads one bit. Throws `.truncated` at the end of the stream.
    package mutating func readBit() throws(EncodingError) -> Bool {
        if valid == 0 { try refill() }
        valid -= 1
        return (buffer >> UInt64(valid)) & 1 == 1
    }

    /// Reads `count` bits (clamped to 0...64) MSB first into the low bits of the result.
    ///
    /// Throws `.truncated` (reporting the offset where the read started) if
    /// the stream ends first; the reader is then left at the end.
    package mutating func readBits(_ count: Int) throws(EncodingError) -> UInt64 {
        let n = min(max(count, 0), 64)
        if n <= valid {
            valid -= n
            return n == 0 ? 0 : (buffer >> UInt64(valid)) & Self.mask(n)
        }
        let start = byteOffset
        guard n <= remainingBits else {
            position = bytes.count
            valid = 0
            throw .truncated("need \(n) bits, \(remainingBits) left", at: start)
        }
        let high = valid == 0 ? 0 : buffer & Self.mask(valid)
        let need = n - valid
        valid = 0
        try refill()
        valid -= need
        let low = (buffer >> UInt64(valid)) & Self.mask(need)
        return need == 64 ? low : (high << UInt64(need)) | low
    }

    /// Reads 8 bits as a byte.
    package mutating func readByte() throws(EncodingError) -> UInt8 {
        UInt8(truncatingIfNeeded: try readBits(8))
    }

    /// Reads a Go `binary.ReadUvarint` varint from the bit stream (bytes need not be aligned).
    ///
    /// Throws `.truncated` if the stream ends mid-varint, `.overflow` past 64 bits.
    package mutating func readUVarint() throws(EncodingError) -> UInt64 {
        let start = byteOffset
        var result: UInt64 = 0
        var shift: UInt64 = 0
        for i in 0..<Varint.maxLength {
            let byte = try readByte()
            if byte < 0x80 {
                if i == Varint.maxLength - 1 && byte > 1 {
                    throw .overflow("varint overflows 64 bits", at: start)
                }
                return result | UInt64(byte) << shift
            }
            result |= UInt64(byte & 0x7F) << shift
            shift += 7
        }
        throw .overflow("varint longer than 10 bytes", at: start)
    }

    /// Reads a zig-zag signed varint; errors as `readUVarint()`.
    package mutating func readVarint() throws(EncodingError) -> Int64 {
        Varint.unZigZag(try readUVarint())
    }

    @inline(__always)
    private static func mask(_ n: Int) -> UInt64 {
        n >= 64 ? ~0 : (1 << UInt64(n)) - 1
    }
}
