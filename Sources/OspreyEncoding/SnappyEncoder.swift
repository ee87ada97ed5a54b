/// Snappy block compressor internals (the algorithm of Go's pure-Go encoder:
/// 64 KiB blocks, 4-byte hashes into a ≤16 Ki-entry table, skip heuristic).
/// Callers guarantee `Snappy.maxCompressedLength(n)` writable bytes at `dst`.
enum SnappyEncoder {
    private static let maxBlockSize = 65_536
    private static let maxTableSize = 1 << 14
    /// Bytes at the end of a block never used to start a match (lets loads run 8 bytes ahead).
    private static let inputMargin = 16 - 1
    /// Blocks shorter than this are emitted as a single literal.
    private static let minNonLiteralBlockSize = 1 + 1 + inputMargin

    /// Writes the whole snappy block (header + elements) for `src`; returns bytes written.
    static func encode(_ src: UnsafeRawBufferPointer, into dst: UnsafeMutableRawPointer) -> Int {
        let total = src.count
        var d = writeUVarint(UInt64(total), to: dst)
        guard let base = src.baseAddress, total > 0 else { return d }
        withUnsafeTemporaryAllocation(of: UInt16.self, capacity: maxTableSize) { table in
            var p = 0
            while p < total {
                let n = min(total - p, maxBlockSize)
                if n < minNonLiteralBlockSize {
                    d += emitLiteral(dst + d, base + p, n)
                } else {
                    d += encodeBlock(base + p, n, dst + d, table)
                }
                p += n
            }
        }
        return d
    }

    private static func writeUVarint(_ value: UInt64, to dst: UnsafeMutableRawPointer) -> Int {
        var v = value
        var i = 0
        while v >= 0x80 {
            dst.storeBytes(of: UInt8(truncatingIfNeeded: v) | 0x80, toByteOffset: i, as: UInt8.self)
            v >>= 7
            i += 1
        }
        dst.storeBytes(of: UInt8(truncatingIfNeeded: v), toByteOffset: i, as: UInt8.self)
        return i + 1
    }

    @inline(__always)
    private static func load32(_ p: UnsafeRawPointer, _ i: Int) -> UInt32 {
        UInt32(littleEndian: p.loadUnaligned(fromByteOffset: i, as: UInt32.self))
    }

    @inline(__always)
    private static func load64(_ p: UnsafeRawPointer, _ i: Int) -> UInt64 {
        UInt64(littleEndian: p.loadUnaligned(fromByteOffset: i, as: UInt64.self))
    }

    @inline(__always)
    private static func hash(_ u: UInt32, _ shift: UInt32) -> Int {
        Int((u &* 0x1E35_A7BD) >> shift)
    }

    /// Emits a literal element for `n >= 1` bytes at `lit`; returns bytes written.
    private static func emitLiteral(_ dst: UnsafeMutableRawPointer, _ lit: UnsafeRawPointer, _ n: Int) -> Int {
        let m = n - 1
        var i: Int
        if m < 60 {
            dst.storeBytes(of: UInt8(m << 2), as: UInt8.self)
            i = 1
        } else {
            let extra = m < 1 << 8 ? 1 : m < 1 << 16 ? 2 : m < 1 << 24 ? 3 : 4
            dst.storeBytes(of: UInt8((59 + extra) << 2), as: UInt8.self)
            for k in 0..<extra {
                dst.storeBytes(of: UInt8(truncatingIfNeeded: m >> (8 * k)), toByteOffset: 1 + k, as: UInt8.self)
            }
            i = 1 + extra
        }
        (dst + i).copyMemory(from: lit, byteCount: n)
        return i + n
    }

    /// Emits copy elements for a match (`1 <= offset < 65536`, `length >= 4`).
    private static func emitCopy(_ dst: UnsafeMutableRawPointer, offset: Int, length: Int) -> Int {
        var i = 0
        var n = length
        let lo = UInt8(truncatingIfNeeded: offset)
        let hi = UInt8(truncatingIfNeeded: offset >> 8)
        func copy2(_ len: Int) {
            dst.storeBytes(of: UInt8(truncatingIfNeeded: (len - 1) << 2 | 2), toByteOffset: i, as: UInt8.self)
            dst.storeBytes(of: lo, toByteOffset: i + 1, as: UInt8.self)
            dst.storeBytes(of: hi, toByteOffset: i + 2, as: UInt8.self)
            i += 3
        }
        while n >= 68 {
            copy2(64)
            n -= 64
        }
        if n > 64 {
            copy2(60)
            n -= 60
        }
        if n >= 12 || offset >= 2048 {
            copy2(n)
        } else {
            let tag = UInt8(truncatingIfNeeded: (offset >> 8) << 5 | (n - 4) << 2 | 1)
            dst.storeBytes(of: tag, toByteOffset: i, as: UInt8.self)
            dst.storeBytes(of: lo, toByteOffset: i + 1, as: UInt8.self)
            i += 2
        }
        return i
    }

    /// Returns the end of the match starting at `s` against `candidate` (< s), bounded by `n`.
    @inline(__always)
    private static func extendMatch(_ src: UnsafeRawPointer, _ candidate: Int, _ s: Int, _ n: Int) -> Int {
        var i = candidate
        var j = s
        while j + 8 <= n {
            let diff = load64(src, i) ^ load64(src, j)
            if diff != 0 { return j + diff.trailingZeroBitCount >> 3 }
            i += 8
            j += 8
        }
        while j < n && src.load(fromByteOffset: i, as: UInt8.self) == src.load(fromByteOffset: j, as: UInt8.self) {
            i += 1
            j += 1
        }
        return j
    }

    /// Compresses one block of `minNonLiteralBlockSize <= n <= 65536` bytes.
    private static func encodeBlock(
        _ src: UnsafeRawPointer, _ n: Int, _ dst: UnsafeMutableRawPointer,
        _ table: UnsafeMutableBufferPointer<UInt16>
    ) -> Int {
        var shift: UInt32 = 32 - 8
        var tableSize = 1 << 8
        while tableSize < maxTableSize && tableSize < n {
            tableSize <<= 1
            shift -= 1
        }
        let mask = tableSize - 1
        UnsafeMutableBufferPointer(rebasing: table[0..<tableSize]).update(repeating: 0)

        let sLimit = n - inputMargin
        var d = 0
        var nextEmit = 0
        var s = 1
        var nextHash = hash(load32(src, s), shift)

        search: while true {
            var skip = 32
            var nextS = s
            var candidate = 0
            while true {
                s = nextS
                let step = skip >> 5
                nextS = s + step
                skip += step
                if nextS > sLimit { break search }
                candidate = Int(table[nextHash & mask])
                table[nextHash & mask] = UInt16(truncatingIfNeeded: s)
                nextHash = hash(load32(src, nextS), shift)
                if load32(src, s) == load32(src, candidate) { break }
            }
            d += emitLiteral(dst + d, src + nextEmit, s - nextEmit)
            while true {
                let matchStart = s
                s = extendMatch(src, candidate + 4, s + 4, n)
                d += emitCopy(dst + d, offset: matchStart - candidate, length: s - matchStart)
                nextEmit = s
                if s >= sLimit { break search }
                let x = load64(src, s - 1)
                table[hash(UInt32(truncatingIfNeeded: x), shift) & mask] = UInt16(truncatingIfNeeded: s - 1)
                let currHash = hash(UInt32(truncatingIfNeeded: x >> 8), shift) & mask
                candidate = Int(table[currHash])
                table[currHash] = UInt16(truncatingIfNeeded: s)
                if UInt32(truncatingIfNeeded: x >> 8) != load32(src, candidate) {
                    nextHash = hash(UInt32(truncatingIfNeeded: x >> 16), shift)
                    s += 1
                    break
                }
            }
        }
        if nextEmit < n {
            d += emitLiteral(dst + d, src + nextEmit, n - nextEmit)
        }
        return d
    }
}
