package import OspreyStorage
import Synchronization

/// Maps the raw protobuf bytes of a remote-write series' labels to the storage's series
/// reference, so that a series seen before is appended by reference: its labels are neither
/// decoded into strings, validated, hashed nor looked up again (what makes VictoriaMetrics'
/// ingest cheap). Entries are only added after the labels were validated and stored.
///
/// Keys are identified by a 128-bit fingerprint (two independent 64-bit hashes) instead of
/// their bytes: comparing stored bytes cost a cache miss per series (~10% of ingest CPU). Two
/// label sets sharing a fingerprint is about 10⁻²⁵ likely at ten million series, and a client
/// that crafted one could only write into a series it can write to directly anyway.
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

    /// The reference stored for these label bytes.
    package func ref(for key: UnsafeRawBufferPointer) -> SeriesRef? {
        let fingerprint = Self.fingerprint(key)
        return shards[Int(fingerprint.high % UInt64(shards.count))].table.withLock { $0.find(fingerprint) }
    }

    /// Remembers `ref` for these label bytes.
    package func insert(_ key: [UInt8], _ ref: SeriesRef) {
        let fingerprint = key.withUnsafeBytes { Self.fingerprint($0) }
        let capacity = perShardCapacity
        shards[Int(fingerprint.high % UInt64(shards.count))].table.withLock { table in
            if table.count >= capacity { table = ProbeTable() }
            table.insert(fingerprint, ref)
        }
    }

    /// The reference stored under a fingerprint the caller computed.
    package func ref(for fingerprint: Fingerprint) -> SeriesRef? {
        shards[Int(fingerprint.high % UInt64(shards.count))].table.withLock { $0.find(fingerprint) }
    }

    /// Remembers `ref` under a fingerprint the caller computed.
    package func insert(_ fingerprint: Fingerprint, _ ref: SeriesRef) {
        let capacity = perShardCapacity
        shards[Int(fingerprint.high % UInt64(shards.count))].table.withLock { table in
            if table.count >= capacity { table = ProbeTable() }
            table.insert(fingerprint, ref)
        }
    }

    /// Forgets everything (after the storage dropped series).
    package func removeAll() {
        for shard in shards { shard.table.withLock { $0 = ProbeTable() } }
    }

    /// Two independent 64-bit hashes of `bytes` in one pass, 8 bytes at a time
    /// (multiply-xorshift lanes with different constants and seeds).
    package static func fingerprint(_ bytes: UnsafeRawBufferPointer) -> Fingerprint {
        var a: UInt64 = 0x9E37_79B9_7F4A_7C15 ^ UInt64(bytes.count)
        var b: UInt64 = 0xC2B2_AE3D_27D4_EB4F &+ UInt64(bytes.count)
        var offset = 0
        while offset + 8 <= bytes.count {
            let word = UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: offset, as: UInt64.self))
            a = (a ^ word) &* 0xFF51_AFD7_ED55_8CCD
            a ^= a >> 29
            b = (b ^ (word &* 0x9FB2_1C65_1E98_DF25)) &* 0xC4CE_B9FE_1A85_EC53
            b ^= b >> 31
            offset += 8
        }
        var tail: UInt64 = 0
        var shift: UInt64 = 0
        while offset < bytes.count {
            tail |= UInt64(bytes[offset]) << shift
            shift += 8
            offset += 1
        }
        a = (a ^ tail) &* 0xC4CE_B9FE_1A85_EC53
        b = (b ^ tail ^ 0x5851_F42D_4C95_7F2D) &* 0xFF51_AFD7_ED55_8CCD
        return Fingerprint(high: a ^ (a >> 32), low: b ^ (b >> 33))
    }

    /// A 128-bit identity of a key.
    package struct Fingerprint: Hashable, Sendable {
        /// First hash (also picks the shard and slot).
        package var high: UInt64
        /// Second, independent hash.
        package var low: UInt64

        /// Creates a fingerprint from its halves.
        package init(high: UInt64, low: UInt64) {
            self.high = high
            self.low = low
        }

        /// The fingerprint of this key followed by `word` (one more step of both hashes), for keys
        /// derived from one prefix: the buckets of one histogram point, say.
        package func extended(with word: UInt64) -> Fingerprint {
            var a = (high ^ word) &* 0xFF51_AFD7_ED55_8CCD
            a ^= a >> 29
            var b = (low ^ (word &* 0x9FB2_1C65_1E98_DF25)) &* 0xC4CE_B9FE_1A85_EC53
            b ^= b >> 31
            return Fingerprint(high: a ^ (a >> 32), low: b ^ (b >> 33))
        }
    }
}

/// An open-addressing table of fingerprints with linear probing; `high | 1` is stored so that
/// 0 marks an empty slot. A lookup touches one 24-byte slot and retains nothing.
private struct ProbeTable {
    private struct Slot {
        var high: UInt64 = 0
        var low: UInt64 = 0
        var ref: UInt64 = 0
    }

    private var slots = [Slot](repeating: Slot(), count: 64)
    private(set) var count = 0

    func find(_ fingerprint: SeriesRefCache.Fingerprint) -> SeriesRef? {
        let high = fingerprint.high | 1
        return slots.withUnsafeBufferPointer { slots -> SeriesRef? in
            let mask = slots.count - 1
            var index = Int(truncatingIfNeeded: high >> 16) & mask
            while true {
                let slot = slots[index]
                if slot.high == 0 { return nil }
                if slot.high == high && slot.low == fingerprint.low { return SeriesRef(slot.ref) }
                index = (index + 1) & mask
            }
        }
    }

    mutating func insert(_ fingerprint: SeriesRefCache.Fingerprint, _ ref: SeriesRef) {
        if (count + 1) * 4 > slots.count * 3 { grow() }
        place(Slot(high: fingerprint.high | 1, low: fingerprint.low, ref: ref.rawValue))
    }

    private mutating func place(_ new: Slot) {
        let mask = slots.count - 1
        var index = Int(truncatingIfNeeded: new.high >> 16) & mask
        while slots[index].high != 0 {
            if slots[index].high == new.high && slots[index].low == new.low {
                slots[index].ref = new.ref
                return
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
        for slot in old where slot.high != 0 { place(slot) }
    }
}
