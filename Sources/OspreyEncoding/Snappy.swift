/// Snappy *block* format codec (not the framing format): what Go's
/// `snappy.Encode`/`snappy.Decode` and Prometheus remote-write use.
///
/// A block is a uvarint decoded length followed by literal and copy elements.
/// Decoding is bounds-checked against both input and declared output size;
/// all errors carry the input byte offset of the offending element.
package enum Snappy {
    /// Largest decoded length the block format can declare (`UInt32.max`).
    package static let formatMaxDecodedLength = Int(UInt32.max)

    /// Returns the decoded length declared by the block header. O(1).
    ///
    /// Throws `.truncated`/`.overflow` for a malformed header varint and
    /// `.tooLarge` if it declares more than `formatMaxDecodedLength` bytes.
    package static func decodedLength(_ input: UnsafeRawBufferPointer) throws(EncodingError) -> Int {
        try header(input).length
    }

    /// Decompresses one snappy block into a new array. O(n) in the output.
    ///
    /// Throws `.tooLarge` (before allocating) if the declared length exceeds
    /// `maxDecodedLength`; `.truncated` if the input ends early; `.corrupt` for
    /// invalid copy offsets or elements overflowing the declared length.
    package static func decompress(_ input: UnsafeRawBufferPointer, maxDecodedLength: Int) throws(EncodingError) -> [UInt8] {
        let (length, headerSize) = try header(input)
        guard length <= maxDecodedLength else {
            throw .tooLarge("declared length \(length) exceeds limit \(maxDecodedLength)", at: 0)
        }
        var failure: EncodingError?
        let output = [UInt8](unsafeUninitializedCapacity: length) { buffer, initialized in
            do throws(EncodingError) {
                try decodeBody(input, from: headerSize, into: UnsafeMutableRawBufferPointer(buffer))
                initialized = length
            } catch {
                failure = error
                initialized = 0
            }
        }
        if let failure { throw failure }
        return output
    }

    /// Decompresses one snappy block held in an array; see the pointer overload.
    package static func decompress(_ input: [UInt8], maxDecodedLength: Int) throws(EncodingError) -> [UInt8] {
        let result = input.withUnsafeBytes { bytes in
            Result { () throws(EncodingError) -> [UInt8] in
                try decompress(bytes, maxDecodedLength: maxDecodedLength)
            }
        }
        return try result.get()
    }

    /// Worst-case compressed size for `sourceLength` input bytes: `32 + n + n/6`.
    package static func maxCompressedLength(_ sourceLength: Int) -> Int {
        let n = max(0, sourceLength)
        return 32 + n + n / 6
    }

    /// Compresses `input` as one snappy block appended to `output` (existing
    /// contents are kept). Output decodes with any snappy block decoder.
    ///
    /// Hash-table matcher over 64 KiB blocks (like Go's encoder). O(n); needs
    /// `maxCompressedLength(n)` spare bytes in `output` temporarily.
    package static func compress(_ input: UnsafeRawBufferPointer, appendingTo output: inout [UInt8]) {
        let start = output.count
        let bound = maxCompressedLength(input.count)
        output.reserveCapacity(start + bound)
        output.append(contentsOf: repeatElement(0, count: bound))
        let written = output.withUnsafeMutableBytes { out -> Int in
            guard let base = out.baseAddress else { return 0 }
            return SnappyEncoder.encode(input, into: base + start)
        }
        output.removeLast(bound - written)
    }

    /// Compresses `input` into a new snappy block. O(n).
    package static func compress(_ input: [UInt8]) -> [UInt8] {
        let bound = maxCompressedLength(input.count)
        return input.withUnsafeBytes { source in
            [UInt8](unsafeUninitializedCapacity: bound) { buffer, initialized in
                guard let base = buffer.baseAddress else { return }
                initialized = SnappyEncoder.encode(source, into: UnsafeMutableRawPointer(base))
            }
        }
    }

    /// Parses the uvarint length header; returns (decoded length, header bytes).
    private static func header(_ input: UnsafeRawBufferPointer) throws(EncodingError) -> (length: Int, headerSize: Int) {
        var reader = ByteReader(input)
        let declared = try reader.readUVarint()
        guard declared <= UInt64(formatMaxDecodedLength) else {
            throw .tooLarge("declared length \(declared) exceeds the 4 GiB format limit", at: 0)
        }
        return (Int(declared), reader.offset)
    }

    /// Decodes the elements of `src[start...]` filling exactly `dst.count` bytes.
    private static func decodeBody(
        _ src: UnsafeRawBufferPointer, from start: Int, into dst: UnsafeMutableRawBufferPointer
    ) throws(EncodingError) {
        let dLen = dst.count
        let sEnd = src.count
        guard let sBase = src.baseAddress, let dBase = dst.baseAddress, dLen > 0 else {
            if start < sEnd { throw .corrupt("element after empty block", at: start) }
            return
        }
        var s = start
        var d = 0
        while s < sEnd {
            let tagOffset = s
            let tag = sBase.load(fromByteOffset: s, as: UInt8.self)
            let length: Int
            let offset: Int
            switch tag & 3 {
            case 0:
                var x = Int(tag >> 2)
                s += 1
                if x >= 60 {
                    let extra = x - 59
                    guard extra <= sEnd - s else {
                        throw .truncated("literal length needs \(extra) bytes", at: tagOffset)
                    }
                    x = 0
                    for i in 0..<extra {
                        x |= Int(sBase.load(fromByteOffset: s + i, as: UInt8.self)) << (8 * i)
                    }
                    s += extra
                }
                let n = x + 1
                guard n <= sEnd - s else {
                    throw .truncated("literal of \(n) bytes runs past input", at: tagOffset)
                }
                guard n <= dLen - d else {
                    throw .corrupt("literal of \(n) bytes overflows declared length \(dLen)", at: tagOffset)
                }
                let to = dBase + d
                let from = sBase + s
                if n <= 16 && sEnd - s >= 16 && dLen - d >= 16 {
                    to.storeBytes(of: from.loadUnaligned(as: UInt64.self), as: UInt64.self)
                    (to + 8).storeBytes(of: from.loadUnaligned(fromByteOffset: 8, as: UInt64.self), as: UInt64.self)
                } else {
                    to.copyMemory(from: from, byteCount: n)
                }
                s += n
                d += n
                continue
            case 1:
                guard sEnd - s >= 2 else { throw .truncated("copy-1 element needs 2 bytes", at: tagOffset) }
                length = 4 + Int((tag >> 2) & 7)
                offset = Int(tag & 0xE0) << 3 | Int(sBase.load(fromByteOffset: s + 1, as: UInt8.self))
                s += 2
            case 2:
                guard sEnd - s >= 3 else { throw .truncated("copy-2 element needs 3 bytes", at: tagOffset) }
                length = 1 + Int(tag >> 2)
                offset = Int(UInt16(littleEndian: sBase.loadUnaligned(fromByteOffset: s + 1, as: UInt16.self)))
                s += 3
            default:
                guard sEnd - s >= 5 else { throw .truncated("copy-4 element needs 5 bytes", at: tagOffset) }
                length = 1 + Int(tag >> 2)
                offset = Int(UInt32(littleEndian: sBase.loadUnaligned(fromByteOffset: s + 1, as: UInt32.self)))
                s += 5
            }
            guard offset > 0, offset <= d else {
                throw .corrupt("copy offset \(offset) outside the \(d) bytes decoded so far", at: tagOffset)
            }
            guard length <= dLen - d else {
                throw .corrupt("copy of \(length) bytes overflows declared length \(dLen)", at: tagOffset)
            }
            copyMatch(dBase + d, offset: offset, length: length, slack: dLen - d)
            d += length
        }
        guard d == dLen else {
            throw .truncated("decoded \(d) bytes but header declares \(dLen)", at: sEnd)
        }
    }

    /// Forward (overlapping) copy of `length` bytes from `dst - offset` to `dst`.
    /// `slack` is the writable space from `dst`; `0 < offset`, `length <= slack`.
    @inline(__always)
    private static func copyMatch(_ dst: UnsafeMutableRawPointer, offset: Int, length: Int, slack: Int) {
        var to = dst
        var from = UnsafeRawPointer(dst - offset)
        var n = length
        var period = offset
        if period >= 8 && n <= 16 && slack >= 16 {
            to.storeBytes(of: from.loadUnaligned(as: UInt64.self), as: UInt64.self)
            (to + 8).storeBytes(of: from.loadUnaligned(fromByteOffset: 8, as: UInt64.self), as: UInt64.self)
            return
        }
        // Short periods: copy one period at a time, doubling the usable distance.
        while period < 8 && n > 0 {
            let k = min(period, n)
            for i in 0..<k {
                (to + i).storeBytes(of: from.load(fromByteOffset: i, as: UInt8.self), as: UInt8.self)
            }
            to += k
            n -= k
            period *= 2
            from = UnsafeRawPointer(to - period)
        }
        while n >= 8 {
            to.storeBytes(of: from.loadUnaligned(as: UInt64.self), as: UInt64.self)
            to += 8
            from += 8
            n -= 8
        }
        for i in 0..<n {
            (to + i).storeBytes(of: from.load(fromByteOffset: i, as: UInt8.self), as: UInt8.self)
        }
    }
}
