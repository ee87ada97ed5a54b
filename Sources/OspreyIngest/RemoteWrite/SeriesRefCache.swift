import Glibc
package import OspreyStorage
import Synchronization

/// Maps the raw protobuf bytes of a remote-write series' labels to the storage's series
/// reference, so that a series seen before is appended by reference: its labels are neither
/// decoded into strings, validated, hashed nor looked up again (what makes VictoriaMetrics'
/// ingest cheap). Entries are only added after the labels were validated and stored.
///
/// Thread-safe: sharded by hash, one mutex per shard. Bounded: a shard that reaches its share
/// of ``capacity`` is cleared (entries are re-learned on the next request).
package final class SeriesRefCache: Sendable {
    private final class Shard: Sendable {
        let table = Mutex(ProbeTable())
    }

    private let shards: [Shard]
    private let perShardCapacity: Int

    /// A cache of at most `capacity` series.
    package init(capacity: Int = 4 << 20, shardCount: Int = 256) {
        shards = (0..<shardCount).map { _ in Shard() }
        perShardCapacity = max(1, capacity / shardCount)
    }

    /// The reference stored for exactly these label bytes.
    package func ref(for key: UnsafeRawBufferPointer) -> SeriesRef? {
        let hash = Self.hash(key)
        return shards[Int(hash % UInt64(shards.count))].table.withLock { $0.find(hash, key) }
    }

    /// Remembers `ref` for these label bytes.
    package func insert(_ key: [UInt8], _ ref: SeriesRef) {
        let hash = key.withUnsafeBytes { Self.hash($0) }
        let capacity = perShardCapacity
        shards[Int(hash % UInt64(shards.count))].table.withLock { table in
            if table.count >= capacity { table = ProbeTable() }
            table.insert(hash, key, ref)
        }
    }

    /// Forgets everything (after the storage dropped series).
    package func removeAll() {
        for shard in shards { shard.table.withLock { $0 = ProbeTable() } }
    }

    /// A fast 64-bit hash reading 8 bytes at a time (multiply-xorshift mixing).
    package static func hash(_ bytes: UnsafeRawBufferPointer) -> UInt64 {
        var hash: UInt64 = 0x9E37_79B9_7F4A_7C15 ^ UInt64(bytes.count)
        var offset = 0
        while offset + 8 <= bytes.count {
            let word = UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: offset, as: UInt64.self))
            hash = (hash ^ word) &* 0xFF51_AFD7_ED55_8CCD
            hash ^= hash >> 29
            offset += 8
        }
        var tail: UInt64 = 0
        var shift: UInt64 = 0
        while offset < bytes.count {
            tail |= UInt64(bytes[offset]) << shift
            shift += 8
            offset += 1
        }
        hash = (hash ^ tail) &* 0xC4CE_B9FE_1A85_EC53
        return hash ^ (hash >> 32)
    }
}

/// An open-addressing hash table keyed by a precomputed 64-bit hash (no rehashing through
/// `Hasher`), with linear probing; hash 0 marks an empty slot.
private struct ProbeTable {
    private var hashes: [UInt64] = Array(repeating: 0, count: 64)
    private var keys: [[UInt8]] = Array(repeating: [], count: 64)
    private var refs: [SeriesRef] = Array(repeating: SeriesRef(0), count: 64)
    private(set) var count = 0

    func find(_ rawHash: UInt64, _ key: UnsafeRawBufferPointer) -> SeriesRef? {
        let hash = rawHash | 1
        let mask = hashes.count - 1
        var slot = Int(truncatingIfNeeded: hash >> 7) & mask
        while true {
            let stored = hashes[slot]
            if stored == 0 { return nil }
            if stored == hash && Self.equal(keys[slot], key) { return refs[slot] }
            slot = (slot + 1) & mask
        }
    }

    mutating func insert(_ rawHash: UInt64, _ key: [UInt8], _ ref: SeriesRef) {
        if (count + 1) * 4 > hashes.count * 3 { grow() }
        let hash = rawHash | 1
        let mask = hashes.count - 1
        var slot = Int(truncatingIfNeeded: hash >> 7) & mask
        while hashes[slot] != 0 {
            if hashes[slot] == hash && keys[slot] == key {
                refs[slot] = ref
                return
            }
            slot = (slot + 1) & mask
        }
        hashes[slot] = hash
        keys[slot] = key
        refs[slot] = ref
        count += 1
    }

    private mutating func grow() {
        let old = (hashes, keys, refs)
        let size = hashes.count * 2
        hashes = Array(repeating: 0, count: size)
        keys = Array(repeating: [], count: size)
        refs = Array(repeating: SeriesRef(0), count: size)
        count = 0
        for index in old.0.indices where old.0[index] != 0 {
            insert(old.0[index], old.1[index], old.2[index])
        }
    }

    private static func equal(_ stored: [UInt8], _ key: UnsafeRawBufferPointer) -> Bool {
        guard stored.count == key.count else { return false }
        return stored.withUnsafeBytes { bytes in
            guard let a = bytes.baseAddress, let b = key.baseAddress else { return true }
            return memcmp(a, b, key.count) == 0
        }
    }
}
