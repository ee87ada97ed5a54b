/// XXH64 with seed 0, the hash Prometheus uses for label sets (`labels.Labels.Hash`).
package enum XXHash64 {
    private static let prime1: UInt64 = 0x9E37_79B1_85EB_CA87
    private static let prime2: UInt64 = 0xC2B2_AE3D_27D4_EB4F
    private static let prime3: UInt64 = 0x1656_67B1_9E37_79F9
    private static let prime4: UInt64 = 0x85EB_CA77_C2B2_AE63
    private static let prime5: UInt64 = 0x27D4_EB2F_1656_67C5

    /// The hash of `bytes`.
    package static func hash(_ bytes: [UInt8]) -> UInt64 {
        bytes.withUnsafeBytes { hash($0) }
    }

    /// The hash of `buffer`.
    package static func hash(_ buffer: UnsafeRawBufferPointer) -> UInt64 {
        let count = buffer.count
        var index = 0
        var h: UInt64
        func word64(_ at: Int) -> UInt64 { UInt64(littleEndian: buffer.loadUnaligned(fromByteOffset: at, as: UInt64.self)) }
        func word32(_ at: Int) -> UInt64 { UInt64(UInt32(littleEndian: buffer.loadUnaligned(fromByteOffset: at, as: UInt32.self))) }
        if count >= 32 {
            var v1 = prime1 &+ prime2
            var v2 = prime2
            var v3: UInt64 = 0
            var v4: UInt64 = 0 &- prime1
            while index + 32 <= count {
                v1 = round(v1, word64(index))
                v2 = round(v2, word64(index + 8))
                v3 = round(v3, word64(index + 16))
                v4 = round(v4, word64(index + 24))
                index += 32
            }
            h = rotl(v1, 1) &+ rotl(v2, 7) &+ rotl(v3, 12) &+ rotl(v4, 18)
            h = merge(h, v1)
            h = merge(h, v2)
            h = merge(h, v3)
            h = merge(h, v4)
        } else {
            h = prime5
        }
        h = h &+ UInt64(count)
        while index + 8 <= count {
            h ^= round(0, word64(index))
            h = rotl(h, 27) &* prime1 &+ prime4
            index += 8
        }
        if index + 4 <= count {
            h ^= word32(index) &* prime1
            h = rotl(h, 23) &* prime2 &+ prime3
            index += 4
        }
        while index < count {
            h ^= UInt64(buffer[index]) &* prime5
            h = rotl(h, 11) &* prime1
            index += 1
        }
        h ^= h >> 33
        h = h &* prime2
        h ^= h >> 29
        h = h &* prime3
        h ^= h >> 32
        return h
    }

    private static func rotl(_ x: UInt64, _ r: UInt64) -> UInt64 { (x << r) | (x >> (64 - r)) }

    private static func round(_ acc: UInt64, _ input: UInt64) -> UInt64 {
        rotl(acc &+ input &* prime2, 31) &* prime1
    }

    private static func merge(_ acc: UInt64, _ value: UInt64) -> UInt64 {
        (acc ^ round(0, value)) &* prime1 &+ prime4
    }
}

extension Labels {
    /// Prometheus' `Labels.Hash`: XXH64 of `name 0xff value 0xff …` in label order.
    package var prometheusHash: UInt64 {
        var bytes: [UInt8] = []
        for label in self {
            bytes.append(contentsOf: label.name.utf8)
            bytes.append(0xFF)
            bytes.append(contentsOf: label.value.utf8)
            bytes.append(0xFF)
        }
        return XXHash64.hash(bytes)
    }
}
