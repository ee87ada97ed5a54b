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
        let entries = Mutex<[UInt64: Entry]>([:])
    }

    private struct Entry {
        var key: [UInt8]
        var ref: SeriesRef
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
        return shards[Int(hash % UInt64(shards.count))].entries.withLock { map in
            guard let entry = map[hash], entry.key.count == key.count else { return nil }
            let equal = entry.key.withUnsafeBytes { stored in
                guard let a = stored.baseAddress, let b = key.baseAddress else { return stored.count == 0 }
                return memcmp(a, b, key.count) == 0
            }
            return equal ? entry.ref : nil
        }
    }

    /// Remembers `ref` for these label bytes.
    package func insert(_ key: [UInt8], _ ref: SeriesRef) {
        let hash = key.withUnsafeBytes { Self.hash($0) }
        shards[Int(hash % UInt64(shards.count))].entries.withLock { map in
            if map.count >= perShardCapacity { map.removeAll() }
            map[hash] = Entry(key: key, ref: ref)
        }
    }

    /// Forgets everything (after the storage dropped series).
    package func removeAll() {
        for shard in shards { shard.entries.withLock { $0.removeAll() } }
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
