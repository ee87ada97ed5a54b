/// CRC-32C (Castagnoli, reflected polynomial `0x82F63B78`), compatible with
/// Go's `crc32.Checksum(b, crc32.MakeTable(crc32.Castagnoli))`.
///
/// Software slice-by-8 implementation: eight 256-entry tables (8 KiB) built
/// once on first use; processes 8 input bytes per step. O(n), no allocation.
package enum CRC32C {
    /// Reflected Castagnoli polynomial.
    private static let polynomial: UInt32 = 0x82F6_3B78

    /// Slice-by-8 tables laid out as `tables[k * 256 + byte]`, k in 0..<8.
    private static let tables: [UInt32] = {
        var t = [UInt32](repeating: 0, count: 8 * 256)
        for i in 0..<256 {
            var crc = UInt32(i)
            for _ in 0..<8 {
                crc = (crc & 1) != 0 ? (crc >> 1) ^ polynomial : crc >> 1
            }
            t[i] = crc
        }
        for k in 1..<8 {
            for i in 0..<256 {
                let previous = t[(k - 1) * 256 + i]
                t[k * 256 + i] = (previous >> 8) ^ t[Int(previous & 0xFF)]
            }
        }
        return t
    }()

    /// Returns the CRC-32C of `bytes`. O(n), no allocation.
    package static func checksum(_ bytes: UnsafeRawBufferPointer) -> UInt32 {
        update(0, bytes)
    }

    /// Continues a checksum: `update(checksum(a), b) == checksum(a + b)`.
    ///
    /// `crc` is a finished CRC-32C value (as returned by `checksum`), exactly
    /// like Go's `crc32.Update`. O(n), no allocation.
    package static func update(_ crc: UInt32, _ bytes: UnsafeRawBufferPointer) -> UInt32 {
        guard let base = bytes.baseAddress, bytes.count > 0 else { return crc }
        return tables.withUnsafeBufferPointer { table -> UInt32 in
            guard let t = table.baseAddress else { return crc }
            var state = ~crc
            var p = base
            var n = bytes.count
            while n >= 8 {
                let lo = p.loadUnaligned(as: UInt32.self).littleEndian ^ state
                let hi = p.loadUnaligned(fromByteOffset: 4, as: UInt32.self).littleEndian
                state = t[7 * 256 + Int(lo & 0xFF)]
                    ^ t[6 * 256 + Int((lo >> 8) & 0xFF)]
                    ^ t[5 * 256 + Int((lo >> 16) & 0xFF)]
                    ^ t[4 * 256 + Int(lo >> 24)]
                    ^ t[3 * 256 + Int(hi & 0xFF)]
                    ^ t[2 * 256 + Int((hi >> 8) & 0xFF)]
                    ^ t[1 * 256 + Int((hi >> 16) & 0xFF)]
                    ^ t[Int(hi >> 24)]
                p += 8
                n -= 8
            }
            while n > 0 {
                let byte = p.load(as: UInt8.self)
                state = t[Int((state ^ UInt32(byte)) & 0xFF)] ^ (state >> 8)
                p += 1
                n -= 1
            }
            return ~state
        }
    }

    /// Returns the CRC-32C of `bytes`. O(n), no allocation.
    package static func checksum(_ bytes: [UInt8]) -> UInt32 {
        bytes.withUnsafeBytes { checksum($0) }
    }

    /// Returns the CRC-32C of `bytes`. O(n), no allocation.
    package static func checksum(_ bytes: ArraySlice<UInt8>) -> UInt32 {
        bytes.withUnsafeBytes { checksum($0) }
    }

    /// Continues a checksum over `bytes`; see `update(_:_:)`. O(n).
    package static func update(_ crc: UInt32, _ bytes: [UInt8]) -> UInt32 {
        bytes.withUnsafeBytes { update(crc, $0) }
    }
}
