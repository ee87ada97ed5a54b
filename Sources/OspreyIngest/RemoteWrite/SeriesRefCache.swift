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
            if table.count >= capacity || table.arenaBytes > Int(UInt32.max / 2) { table = ProbeTable() }
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
/// `Hasher`), with linear probing. Keys live back to back in one byte arena, so a lookup
/// touches one slot and one run of arena bytes, and retains nothing.
private struct ProbeTable {
    private struct Slot {
        /// The key's hash with the low bit set; 0 marks an empty slot.
        var hash: UInt64 = 0
        var ref: UInt64 = 0
        var keyOffset: UInt32 = 0
        var keyLength: UInt32 = 0
    }

    private var slots = [Slot](repeating: Slot(), count: 64)
    private var arena: [UInt8] = []
    private(set) var count = 0

    /// Bytes the keys occupy; the owner clears the table before this would overflow UInt32.
    var arenaBytes: Int { arena.count }

    func find(_ rawHash: UInt64, _ key: UnsafeRawBufferPointer) -> SeriesRef? {
        let hash = rawHash | 1
        return slots.withUnsafeBufferPointer { slots in
            arena.withUnsafeBytes { arena -> SeriesRef? in
                let mask = slots.count - 1
                var index = Int(truncatingIfNeeded: hash >> 16) & mask
                while true {
                    let slot = slots[index]
                    if slot.hash == 0 { return nil }
                    if slot.hash == hash && Int(slot.keyLength) == key.count
                        && Self.equal(arena, Int(slot.keyOffset), key)
                    {
                        return SeriesRef(slot.ref)
                    }
                    index = (index + 1) & mask
                }
            }
        }
    }

    mutating func insert(_ rawHash: UInt64, _ key: [UInt8], _ ref: SeriesRef) {
        let found = key.withUnsafeBytes { find(rawHash, $0) }
        if found == ref { return }
        if (count + 1) * 4 > slots.count * 3 { grow() }
        let offset = arena.count
        arena.append(contentsOf: key)
        place(Slot(hash: rawHash | 1, ref: ref.rawValue, keyOffset: UInt32(offset), keyLength: UInt32(key.count)), replacing: found != nil)
    }

    private mutating func place(_ new: Slot, replacing: Bool) {
        let mask = slots.count - 1
        var index = Int(truncatingIfNeeded: new.hash >> 16) & mask
        while slots[index].hash != 0 {
            if replacing && slots[index].hash == new.hash && slots[index].keyLength == new.keyLength {
                let same = arena.withUnsafeBytes { bytes in
                    Self.equal(bytes, Int(slots[index].keyOffset), UnsafeRawBufferPointer(rebasing: bytes[Int(new.keyOffset)..<Int(new.keyOffset + new.keyLength)]))
                }
                if same {
                    slots[index] = new
                    return
                }
            }
            index = (index + 1) & mask
        }
        slots[index] = new
        count += 1
    }

    private mutating func grow() {
        let old = slots
        slots = [Slot](repeating: Slot(), count: old.count * 2)
        count = 0
        for slot in old where slot.hash != 0 { place(slot, replacing: false) }
    }

    private static func equal(_ arena: UnsafeRawBufferPointer, _ offset: Int, _ key: UnsafeRawBufferPointer) -> Bool {
        guard let a = arena.baseAddress, let b = key.baseAddress else { return key.isEmpty }
        return memcmp(a + offset, b, key.count) == 0
    }
}
