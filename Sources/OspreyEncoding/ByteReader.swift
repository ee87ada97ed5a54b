/// Bounds-checked big-endian / little-endian / varint reader over borrowed bytes.
///
/// The reader does not own its memory: the caller must keep the buffer alive
/// for the reader's whole lifetime (e.g. use it only inside `withUnsafeBytes`).
/// Every read is bounds-checked; failures throw `EncodingError` whose `offset`
/// is `baseOffset` plus the position where the failing field starts. O(1) per
/// fixed-width read, no allocation.
package struct ByteReader {
    private let base: UnsafeRawPointer?
    private let count: Int
    private let baseOffset: Int
    private var position: Int = 0

    /// Creates a reader over `bytes`; `baseOffset` is added to error offsets.
    package init(_ bytes: UnsafeRawBufferPointer, baseOffset: Int = 0) {
        self.base = bytes.baseAddress
        self.count = bytes.count
        self.baseOffset = baseOffset
    }

    /// Current position, in bytes, relative to the start of the buffer.
    package var offset: Int { position }

    /// Bytes left to read.
    package var remaining: Int { count - position }

    /// True when every byte has been consumed.
    package var isAtEnd: Bool { position >= count }

    /// Returns a pointer to `n` readable bytes at the current position, or throws `.truncated`.
    private func require(_ n: Int, _ what: StaticString) throws(EncodingError) -> UnsafeRawPointer {
        guard n <= count - position, let base else {
            throw .truncated("need \(n) bytes for \(what), \(count - position) left", at: baseOffset + position)
        }
        return base + position
    }

    /// Reads one byte. Throws `.truncated` at the end of input.
    package mutating func readUInt8() throws(EncodingError) -> UInt8 {
        let p = try require(1, "UInt8")
        position += 1
        return p.load(as: UInt8.self)
    }

    /// Reads a big-endian `UInt16`. Throws `.truncated` if fewer than 2 bytes remain.
    package mutating func readUInt16BE() throws(EncodingError) -> UInt16 {
        let p = try require(2, "UInt16")
        position += 2
        return UInt16(bigEndian: p.loadUnaligned(as: UInt16.self))
    }

    /// Reads a big-endian `UInt32`. Throws `.truncated` if fewer than 4 bytes remain.
    package mutating func readUInt32BE() throws(EncodingError) -> UInt32 {
        let p = try require(4, "UInt32")
        position += 4
        return UInt32(bigEndian: p.loadUnaligned(as: UInt32.self))
    }

    /// Reads a big-endian `UInt64`. Throws `.truncated` if fewer than 8 bytes remain.
    package mutating func readUInt64BE() throws(EncodingError) -> UInt64 {
        let p = try require(8, "UInt64")
        position += 8
        return UInt64(bigEndian: p.loadUnaligned(as: UInt64.self))
    }

    /// Reads a little-endian `UInt32`. Throws `.truncated` if fewer than 4 bytes remain.
    package mutating func readUInt32LE() throws(EncodingError) -> UInt32 {
        let p = try require(4, "UInt32")
        position += 4
        return UInt32(littleEndian: p.loadUnaligned(as: UInt32.self))
    }

    /// Reads a little-endian `UInt64`. Throws `.truncated` if fewer than 8 bytes remain.
    package mutating func readUInt64LE() throws(EncodingError) -> UInt64 {
        let p = try require(8, "UInt64")
        position += 8
        return UInt64(littleEndian: p.loadUnaligned(as: UInt64.self))
    }

    /// Reads an unsigned LEB128 varint with Go's `binary.Uvarint` rules.
    ///
    /// At most 10 bytes; throws `.overflow` if the value exceeds 64 bits (10th
    /// byte > 1 or no terminator within 10 bytes) and `.truncated` if the
    /// input ends mid-varint. Error offsets point at the varint's first byte.
    package mutating func readUVarint() throws(EncodingError) -> UInt64 {
        let start = position
        var result: UInt64 = 0
        var shift: UInt64 = 0
        var i = 0
        while i < Varint.maxLength {
            guard position < count, let base else {
                position = start
                throw .truncated("varint ends after \(i) bytes", at: baseOffset + start)
            }
            let byte = base.load(fromByteOffset: position, as: UInt8.self)
            position += 1
            if byte < 0x80 {
                if i == Varint.maxLength - 1 && byte > 1 {
                    position = start
                    throw .overflow("varint overflows 64 bits", at: baseOffset + start)
                }
                return result | (UInt64(byte) << shift)
            }
            result |= UInt64(byte & 0x7F) << shift
            shift += 7
            i += 1
        }
        position = start
        throw .overflow("varint longer than 10 bytes", at: baseOffset + start)
    }

    /// Reads a zig-zag signed varint (Go's `binary.Varint`); errors as `readUVarint()`.
    package mutating func readVarint() throws(EncodingError) -> Int64 {
        Varint.unZigZag(try readUVarint())
    }

    /// Returns the next `count` bytes as a sub-buffer (no copy) and advances.
    ///
    /// The result borrows the same memory as the reader. Throws `.corrupt`
    /// for a negative count and `.truncated` if fewer bytes remain.
    package mutating func readBytes(_ count: Int) throws(EncodingError) -> UnsafeRawBufferPointer {
        guard count >= 0 else {
            throw .corrupt("negative byte count \(count)", at: baseOffset + position)
        }
        if count == 0 {
            return UnsafeRawBufferPointer(start: base.map { $0 + position }, count: 0)
        }
        let p = try require(count, "byte run")
        position += count
        return UnsafeRawBufferPointer(start: p, count: count)
    }

    /// Advances past `count` bytes. Throws like `readBytes(_:)`.
    package mutating func skip(_ count: Int) throws(EncodingError) {
        _ = try readBytes(count)
    }
}
