#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A hash set of byte strings (the raw series bytes of exposition lines), each known by its
/// position in insertion order, so that a scrape finds a series it has seen before with one
/// hash of the line's bytes and one compare, allocating nothing.
///
/// Keys live back to back in one byte array; open addressing with linear probing over a
/// power-of-two bucket array at most half full, each bucket holding a position and its hash.
struct SeriesKeyTable {
    private var arena: [UInt8] = []
    /// Per position: where its key starts in `arena` and its length.
    private var starts: [Int] = []
    private var lengths: [Int32] = []
    private var hashes: [UInt64] = []
    /// Position + 1 per bucket (0: empty).
    private var buckets: [Int32] = Array(repeating: 0, count: 16)

    /// Number of keys.
    var count: Int { starts.count }

    /// The position of `key`, or nil; the key at `candidate` is compared first, without
    /// hashing (a scrape's series mostly come in the order of the last one).
    func position(of key: UnsafeBufferPointer<UInt8>, tryingFirst candidate: Int) -> Int? {
        if candidate >= 0 && candidate < starts.count && Int(lengths[candidate]) == key.count && equals(candidate, key) {
            return candidate
        }
        return position(of: key)
    }

    /// The position of `key`, or nil.
    func position(of key: UnsafeBufferPointer<UInt8>) -> Int? {
        let hash = Self.hash(key)
        let mask = buckets.count - 1
        var bucket = Int(truncatingIfNeeded: hash) & mask
        while true {
            let stored = Int(buckets[bucket])
            if stored == 0 { return nil }
            let position = stored - 1
            if hashes[position] == hash && Int(lengths[position]) == key.count && equals(position, key) { return position }
            bucket = (bucket + 1) & mask
        }
    }

    /// Adds `key`, which must not be present, at position ``count``.
    mutating func append(_ key: UnsafeBufferPointer<UInt8>) {
        let position = starts.count
        starts.append(arena.count)
        lengths.append(Int32(key.count))
        hashes.append(Self.hash(key))
        arena.append(contentsOf: key)
        if (position + 1) * 2 > buckets.count {
            rebuildBuckets()
        } else {
            insertBucket(position)
        }
    }

    /// Keeps the keys whose position `keep` accepts, in order (positions shift down).
    mutating func retain(_ keep: (Int) -> Bool) {
        var newArena: [UInt8] = []
        var newStarts: [Int] = []
        var newLengths: [Int32] = []
        var newHashes: [UInt64] = []
        newStarts.reserveCapacity(starts.count)
        newLengths.reserveCapacity(starts.count)
        newHashes.reserveCapacity(starts.count)
        for position in starts.indices where keep(position) {
            newStarts.append(newArena.count)
            newLengths.append(lengths[position])
            newHashes.append(hashes[position])
            newArena.append(contentsOf: arena[starts[position]..<starts[position] + Int(lengths[position])])
        }
        arena = newArena
        starts = newStarts
        lengths = newLengths
        hashes = newHashes
        rebuildBuckets()
    }

    private func equals(_ position: Int, _ key: UnsafeBufferPointer<UInt8>) -> Bool {
        guard let keyBase = key.baseAddress else { return true }
        return arena.withUnsafeBufferPointer { memcmp($0.baseAddress! + starts[position], keyBase, key.count) == 0 }
    }

    private mutating func rebuildBuckets() {
        var size = 16
        while size < starts.count * 2 + 2 { size *= 2 }
        buckets = Array(repeating: 0, count: size)
        for position in starts.indices { insertBucket(position) }
    }

    private mutating func insertBucket(_ position: Int) {
        let mask = buckets.count - 1
        var bucket = Int(truncatingIfNeeded: hashes[position]) & mask
        while buckets[bucket] != 0 { bucket = (bucket + 1) & mask }
        buckets[bucket] = Int32(position + 1)
    }

    /// A 64-bit hash of the bytes, eight at a time (multiply-rotate, then a final mix).
    static func hash(_ key: UnsafeBufferPointer<UInt8>) -> UInt64 {
        var h: UInt64 = 0x9E37_79B9_7F4A_7C15 ^ UInt64(key.count)
        guard let base = key.baseAddress else { return finalMix(h) }
        let raw = UnsafeRawPointer(base)
        var offset = 0
        let count = key.count
        while offset + 8 <= count {
            let word = raw.loadUnaligned(fromByteOffset: offset, as: UInt64.self)
            h = ((h ^ word) &* 0xFF51_AFD7_ED55_8CCD)
            h = (h << 29) | (h >> 35)
            offset += 8
        }
        var tail: UInt64 = 0
        var shift: UInt64 = 0
        while offset < count {
            tail |= UInt64(base[offset]) << shift
            shift += 8
            offset += 1
        }
        h = (h ^ tail) &* 0xC4CE_B9FE_1A85_EC53
        return finalMix(h)
    }

    private static func finalMix(_ value: UInt64) -> UInt64 {
        var h = value
        h ^= h >> 33
        h = h &* 0xFF51_AFD7_ED55_8CCD
        h ^= h >> 33
        return h
    }
}
