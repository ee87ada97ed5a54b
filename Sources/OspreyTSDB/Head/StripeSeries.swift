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
    private let byRef: [Stripe<[UInt64: MemSeries]>]
    private let count = Atomic<Int>(0)

    /// Creates maps with `stripeCount` stripes (rounded up to a power of two).
    package init(stripeCount: Int) {
        var stripes = 1
        while stripes < stripeCount { stripes <<= 1 }
        mask = stripes - 1
        byHash = (0..<stripes).map { _ in Stripe([:]) }
        byRef = (0..<stripes).map { _ in Stripe([:]) }
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
        byRef[Int(truncatingIfNeeded: ref) & mask].lock.withLock { $0[ref] }
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
            byRef[Int(truncatingIfNeeded: series.ref) & mask].lock.withLock { $0[series.ref] = series }
            count.add(1, ordering: .relaxed)
        }
        return (series, created)
    }

    /// Calls `body` for every series, one stripe at a time (no lock is held during `body`).
    package func forEach(_ body: (MemSeries) throws -> Void) rethrows {
        for stripe in byRef {
            let list = stripe.lock.withLock { Array($0.values) }
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
