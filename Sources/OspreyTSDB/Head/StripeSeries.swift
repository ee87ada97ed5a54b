package import OspreyModel
import Synchronization

/// The head's series maps, sharded by label hash and by reference so that concurrent appenders
/// rarely contend (Prometheus' `stripeSeries`).
///
/// Thread-safe: each stripe has its own mutex.
package final class StripeSeries: Sendable {
    private enum Bucket {
        case one(MemSeries)
        case many([MemSeries])
    }

    private final class Stripe<Value>: Sendable {
        let lock: Mutex<Value>
        init(_ value: sending Value) { lock = Mutex(value) }
    }

    private let mask: Int
    private let byHash: [Stripe<[UInt64: Bucket]>]
    /// Series by reference: stripe `ref & mask` holds slot `ref >> stripeShift`. References are
    /// dense (a counter, or Prometheus' WAL counter), so arrays beat hashing here.
    private let byRef: [Stripe<RefSlots>]
    private let stripeShift: Int
    private let count = Atomic<Int>(0)

    /// Creates maps with `stripeCount` stripes (rounded up to a power of two).
    package init(stripeCount: Int) {
        var stripes = 1
        while stripes < stripeCount { stripes <<= 1 }
        mask = stripes - 1
        byHash = (0..<stripes).map { _ in Stripe([:]) }
        byRef = (0..<stripes).map { _ in Stripe(RefSlots()) }
        stripeShift = stripes.trailingZeroBitCount
    }

    /// Number of series.
    package var seriesCount: Int { count.load(ordering: .relaxed) }

    /// The series with these labels, if present.
    package func series(labels: Labels, hash: UInt64) -> MemSeries? {
        byHash[Int(truncatingIfNeeded: hash) & mask].lock.withLock { map in
            find(labels, in: map[hash])
        }
    }

    /// The series with this reference, if present.
    package func series(ref: UInt64) -> MemSeries? {
        byRef[Int(truncatingIfNeeded: ref) & mask].lock.withLock { $0[ref >> UInt64(stripeShift)] }
    }

    /// Returns the existing series with these labels, or inserts the one `make` creates.
    /// `make` runs under the hash stripe's lock. The flag tells whether it was created.
    package func getOrCreate(labels: Labels, hash: UInt64, make: () -> MemSeries) -> (MemSeries, created: Bool) {
        let (series, created): (MemSeries, Bool) = byHash[Int(truncatingIfNeeded: hash) & mask].lock.withLock { map in
            if let existing = find(labels, in: map[hash]) { return (existing, false) }
            let fresh = make()
            switch map[hash] {
            case nil: map[hash] = .one(fresh)
            case .one(let other): map[hash] = .many([other, fresh])
            case .many(var list):
                list.append(fresh)
                map[hash] = .many(list)
            }
            return (fresh, true)
        }
        if created {
            let slot = series.ref >> UInt64(stripeShift)
            byRef[Int(truncatingIfNeeded: series.ref) & mask].lock.withLock { $0[slot] = series }
            count.add(1, ordering: .relaxed)
        }
        return (series, created)
    }

    /// Removes `series` from both maps (nothing when it is not there).
    package func remove(_ series: MemSeries) {
        let removed: Bool = byHash[Int(truncatingIfNeeded: series.hash) & mask].lock.withLock { map in
            switch map[series.hash] {
            case .one(let only) where only === series:
                map[series.hash] = nil
                return true
            case .many(var list):
                guard let index = list.firstIndex(where: { $0 === series }) else { return false }
                list.remove(at: index)
                map[series.hash] = list.count == 1 ? .one(list[0]) : .many(list)
                return true
            default:
                return false
            }
        }
        guard removed else { return }
        let slot = series.ref >> UInt64(stripeShift)
        byRef[Int(truncatingIfNeeded: series.ref) & mask].lock.withLock { slots in
            if slots[slot] === series { slots[slot] = nil }
        }
        count.add(-1, ordering: .relaxed)
    }

    /// Calls `body` for every series, one stripe at a time (no lock is held during `body`).
    package func forEach(_ body: (MemSeries) throws -> Void) rethrows {
        for stripe in byRef {
            let list = stripe.lock.withLock { $0.all() }
            for series in list { try body(series) }
        }
    }

    private func find(_ labels: Labels, in bucket: Bucket?) -> MemSeries? {
        switch bucket {
        case nil: return nil
        case .one(let series): return series.labels == labels ? series : nil
        case .many(let list): return list.first { $0.labels == labels }
        }
    }
}

/// Slots of one reference stripe: a dense array for small slot numbers, a dictionary for the
/// rare huge ones (a WAL written by another tool with sparse references).
struct RefSlots {
    private static let denseLimit: UInt64 = 1 << 24
    private var dense: [MemSeries?] = []
    private var sparse: [UInt64: MemSeries] = [:]

    subscript(slot: UInt64) -> MemSeries? {
        get {
            if slot < UInt64(dense.count) { return dense[Int(slot)] }
            return slot < Self.denseLimit ? nil : sparse[slot]
        }
        set {
            guard slot < Self.denseLimit else {
                sparse[slot] = newValue
                return
            }
            let index = Int(slot)
            if index >= dense.count {
                dense.reserveCapacity(Swift.max(index + 1, dense.count * 2))
                dense.append(contentsOf: repeatElement(nil, count: index + 1 - dense.count))
            }
            dense[index] = newValue
        }
    }

    func all() -> [MemSeries] {
        dense.compactMap { $0 } + Array(sparse.values)
    }
}
