import CZlib
package import OspreyStorage

/// Raw deflate (RFC 1951) through the system's zlib, for block pages and index sections.
package enum Deflate {
    /// `bytes` compressed at `level` (0–9).
    package static func compress(_ bytes: [UInt8], level: Int32 = 6) throws(StorageError) -> [UInt8] {
        var stream = z_stream()
        guard deflateInit2_(&stream, level, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size)) == Z_OK else {
            throw StorageError(code: .io, message: "zlib: cannot start deflate")
        }
        defer { deflateEnd(&stream) }
        var output = [UInt8](repeating: 0, count: Int(deflateBound(&stream, uLong(bytes.count))))
        var input = bytes
        let status = input.withUnsafeMutableBufferPointer { inBuffer in
            output.withUnsafeMutableBufferPointer { outBuffer -> Int32 in
                stream.next_in = inBuffer.baseAddress
                stream.avail_in = uInt(inBuffer.count)
                stream.next_out = outBuffer.baseAddress
                stream.avail_out = uInt(outBuffer.count)
                return deflate(&stream, Z_FINISH)
            }
        }
        guard status == Z_STREAM_END else { throw StorageError(code: .io, message: "zlib: deflate failed (\(status))") }
        output.removeLast(output.count - Int(stream.total_out))
        return output
    }

    /// `bytes` decompressed to exactly `size` bytes; corrupt data or another size is an error.
    package static func decompress(_ bytes: UnsafeRawBufferPointer, size: Int) throws(StorageError) -> [UInt8] {
        var stream = z_stream()
        guard inflateInit2_(&stream, -15, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size)) == Z_OK else {
            throw StorageError(code: .io, message: "zlib: cannot start inflate")
        }
        defer { inflateEnd(&stream) }
        var output = [UInt8](repeating: 0, count: size)
        let status = output.withUnsafeMutableBufferPointer { outBuffer -> Int32 in
            stream.next_in = UnsafeMutablePointer(mutating: bytes.baseAddress?.assumingMemoryBound(to: UInt8.self))
            stream.avail_in = uInt(bytes.count)
            stream.next_out = outBuffer.baseAddress
            stream.avail_out = uInt(outBuffer.count)
            return inflate(&stream, Z_FINISH)
        }
        guard status == Z_STREAM_END, Int(stream.total_out) == size else {
            throw StorageError(code: .io, message: "corrupt compressed data (zlib status \(status), \(stream.total_out) of \(size) bytes)")
        }
        return output
    }
}
