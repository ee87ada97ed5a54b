#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A direct-mapped cache from short byte strings (metric names, label names, unescaped label
/// values) to `String`, so that names seen on earlier lines or scrapes cost a hash and a
/// compare instead of an allocation and UTF-8 validation.
///
/// A slot holds the last string that hashed to it; a collision just replaces it.
struct ExpositionStringCache {
    /// Strings longer than this are not cached (they are rarely repeated identifiers).
    static let maxCachedBytes = 128

    private var hashes: [UInt64]
    private var keys: [[UInt8]]
    private var strings: [String]
    private let mask: Int

    /// Creates a cache of `1 << slotBits` slots.
    init(slotBits: Int = 12) {
        let count = 1 << slotBits
        hashes = Array(repeating: 0, count: count)
        keys = Array(repeating: [], count: count)
        strings = Array(repeating: "", count: count)
        mask = count - 1
    }

    /// The string for `buf[range]`; nil when the bytes are not valid UTF-8.
    mutating func string(_ buf: UnsafeBufferPointer<UInt8>, _ range: Range<Int>) -> String? {
        let bytes = UnsafeBufferPointer(rebasing: buf[range])
        guard bytes.count <= Self.maxCachedBytes, let base = bytes.baseAddress else {
            return bytes.isEmpty ? "" : String(validating: bytes, as: UTF8.self)
        }
        // FNV-1a: short keys, so a simple byte loop beats anything clever.
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for b in bytes {
            hash = (hash ^ UInt64(b)) &* 0x0000_0100_0000_01b3
        }
        let slot = Int(truncatingIfNeeded: hash) & mask
        if hashes[slot] == hash {
            let hit = keys[slot].withUnsafeBufferPointer { key in
                guard key.count == bytes.count, let keyBase = key.baseAddress else { return false }
                return memcmp(keyBase, base, bytes.count) == 0
            }
            if hit { return strings[slot] }
        }
        guard let string = String(validating: bytes, as: UTF8.self) else { return nil }
        hashes[slot] = hash
        keys[slot] = Array(bytes)
        strings[slot] = string
        return string
    }
}
