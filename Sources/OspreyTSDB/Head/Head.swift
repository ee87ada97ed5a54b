import CoreMetrics
import Logging
package import OspreyModel
package import OspreyStorage
package import Synchronization

/// The in-memory head of the metrics engine: recent samples of every series in Gorilla/XOR
/// chunks, the postings index, and the WAL that makes them durable.
///
/// Thread-safety: appenders and queriers may be used from many tasks at once. Series maps are
/// striped; each series has its own lock; the WAL has one lock that commits take briefly.
package final class Head: Sendable {
    /// Engine options.
    package let options: TSDBOptions
    /// Series by labels and by reference.
    package let series: StripeSeries
    /// Inverted index of label pairs.
    package let postings: MemPostings
    /// Where completed chunks keep their bytes.
    package let chunkSlabs = ChunkSlabAllocator()
    /// The oldest buffered sample of every appender that has not committed yet.
    package let inFlight = InFlightAppends()
    /// Label order of the series per metric name, for readers.
    package let order = SeriesOrder()
    /// The write-ahead log; nil for a purely in-memory head (tests).
    package let wal: HeadWAL?
    /// Self-metrics.
    package let metrics: HeadMetrics
    private let lastRef: Atomic<UInt64>
    private let minTime = Atomic<Int64>(.max)
    private let maxTime = Atomic<Int64>(.min)
    /// Samples older than this are out of bounds (set when data is persisted to blocks).
    package let minValidTimeMs = Atomic<Int64>(.min)
    /// Set once some series has tombstones: label listings then check each series.
    private let deletions = Atomic<Bool>(false)
    /// References of series dropped by ``collectEmptySeries()`` since the last WAL checkpoint.
    private let droppedRefs = Mutex<Set<UInt64>>([])

    /// Creates an empty head that logs to `wal` (nil: no durability, for tests).
    package init(options: TSDBOptions, wal: HeadWAL?, metrics: HeadMetrics = HeadMetrics()) {
        self.options = options
        self.series = StripeSeries(stripeCount: options.stripeCount)
        self.postings = MemPostings()
        self.wal = wal
        self.metrics = metrics
        self.lastRef = Atomic(0)
    }

    /// A head that takes over `other`'s series and index (after a WAL replay) and logs to `wal`.
    package init(adopting other: Head, wal: HeadWAL) {
        self.options = other.options
        self.series = other.series
        self.postings = other.postings
        self.wal = wal
        self.metrics = other.metrics
        self.lastRef = Atomic(other.lastRef.load(ordering: .relaxed))
        minTime.store(other.minTime.load(ordering: .relaxed), ordering: .relaxed)
        maxTime.store(other.maxTime.load(ordering: .relaxed), ordering: .relaxed)
        minValidTimeMs.store(other.minValidTimeMs.load(ordering: .relaxed), ordering: .relaxed)
        deletions.store(other.deletions.load(ordering: .relaxed), ordering: .relaxed)
    }

    /// Whether some series may have tombstones.
    package var hasDeletions: Bool { deletions.load(ordering: .relaxed) }

    /// Notes that some series has tombstones.
    package func noteDeletions() {
        deletions.store(true, ordering: .relaxed)
    }

    /// Deletes `[minTimeMs, maxTimeMs]` of the series matching any of `matcherSets`, each
    /// range clamped to the series' samples: tombstones logged to the WAL and fsynced first,
    /// then applied, so readers skip those samples and head persistence leaves them out.
    /// Returns the number of series affected.
    @discardableResult
    package func delete(matcherSets: [[LabelMatcher]], minTimeMs: Int64, maxTimeMs: Int64) async throws(StorageError) -> Int {
        guard minTimeMs <= maxTimeMs else { return 0 }
        var tombstones: [(MemSeries, ClosedRange<Int64>)] = []
        var seen = Set<UInt64>()
        for matchers in matcherSets {
            for ref in postings.postings(matching: matchers) where seen.insert(ref).inserted {
                guard let memSeries = series.series(ref: ref) else { continue }
                let range: ClosedRange<Int64>? = memSeries.state.withLock { state in
                    guard !state.isEmpty else { return nil }
                    let low = max(minTimeMs, min(state.minTimeMs, state.outOfOrder.first?.timestampMs ?? .max))
                    let high = min(maxTimeMs, max(state.maxTimeMs, state.outOfOrder.last?.timestampMs ?? .min))
                    guard low <= high, !state.deleted.covers(low, high) else { return nil }
                    return low...high
                }
                if let range { tombstones.append((memSeries, range)) }
            }
        }
        guard !tombstones.isEmpty else { return 0 }
        try await wal?.logTombstones(tombstones.map { RefTombstone(ref: $0.0.ref, minTimeMs: $0.1.lowerBound, maxTimeMs: $0.1.upperBound) })
        noteDeletions()
        for (memSeries, range) in tombstones {
            memSeries.state.withLock { $0.deleted.add(range) }
        }
        return tombstones.count
    }

    /// The oldest sample time the head accepts, as Prometheus' `appendableMinValidTime`: no
    /// older than what blocks hold (``minValidTimeMs``), nor than half a block range behind
    /// the newest sample, so that the range being persisted never receives a sample (late
    /// samples within `outOfOrderTimeWindowMs` of the newest are still accepted).
    package var appendableMinTimeMs: Int64 {
        let minValid = minValidTimeMs.load(ordering: .relaxed)
        let newest = maxTime.load(ordering: .relaxed)
        guard newest != .min else { return minValid }
        let window = max(options.chunkRangeMs / 2, options.outOfOrderTimeWindowMs)
        return max(minValid, newest &- window)
    }

    /// Drops every sample older than `timestampMs` (persisted in a block): from then on the
    /// head starts there and accepts nothing older.
    package func truncate(before timestampMs: Int64) {
        minValidTimeMs.store(max(minValidTimeMs.load(ordering: .relaxed), timestampMs), ordering: .relaxed)
        series.forEach { memSeries in
            memSeries.state.withLock { $0.truncate(before: timestampMs) }
        }
        var current = minTime.load(ordering: .relaxed)
        while current < timestampMs {
            let (exchanged, original) = minTime.compareExchange(expected: current, desired: timestampMs, ordering: .relaxed)
            if exchanged { break }
            current = original
        }
    }

    /// Oldest sample time in the head, nil when empty.
    package var minTimeMs: Int64? {
        let value = minTime.load(ordering: .relaxed)
        return value == .max ? nil : value
    }

    /// Newest sample time in the head, nil when empty.
    package var maxTimeMs: Int64? {
        let value = maxTime.load(ordering: .relaxed)
        return value == .min ? nil : value
    }

    /// Widens the head's time range to include `timestampMs`.
    package func noteTime(min low: Int64, max high: Int64) {
        var current = minTime.load(ordering: .relaxed)
        while low < current {
            let (exchanged, original) = minTime.compareExchange(expected: current, desired: low, ordering: .relaxed)
            if exchanged { break }
            current = original
        }
        current = maxTime.load(ordering: .relaxed)
        while high > current {
            let (exchanged, original) = maxTime.compareExchange(expected: current, desired: high, ordering: .relaxed)
            if exchanged { break }
            current = original
        }
    }

    /// The series with `labels`, created (and indexed) if needed. Labels must be valid.
    package func getOrCreate(labels: Labels) -> (MemSeries, created: Bool) {
        let hash = labels.stableHash
        if let existing = series.series(labels: labels, hash: hash) { return (existing, false) }
        let result = series.getOrCreate(labels: labels, hash: hash) {
            let ref = lastRef.add(1, ordering: .relaxed).newValue
            return MemSeries(ref: ref, labels: postings.intern(labels), hash: hash)
        }
        if result.created { indexNew(result.0) }
        return result
    }

    /// Creates a series with a reference read from a WAL; returns the existing series when the
    /// labels are already known (a WAL may hold several records for one series).
    package func getOrCreate(labels: Labels, walRef: UInt64) -> (MemSeries, created: Bool) {
        let result = series.getOrCreate(labels: labels, hash: labels.stableHash) {
            MemSeries(ref: walRef, labels: postings.intern(labels), hash: labels.stableHash)
        }
        if result.created {
            var current = lastRef.load(ordering: .relaxed)
            while walRef > current {
                let (exchanged, original) = lastRef.compareExchange(expected: current, desired: walRef, ordering: .relaxed)
                if exchanged { break }
                current = original
            }
            indexNew(result.0)
        }
        return result
    }

    /// Drops series left without samples (all persisted to blocks, or truncated), as
    /// Prometheus' head garbage collection: from the maps and the index, under the series'
    /// lock, unless an open appender has buffered a sample for it. The series is marked
    /// removed and its WAL series record as not written, so an appender that resolved it
    /// earlier logs the record again and puts the series back (``restore(_:)``). Returns the
    /// number dropped.
    @discardableResult
    package func collectEmptySeries() -> Int {
        var dropped = 0
        series.forEach { memSeries in
            let drop = memSeries.state.withLock { state -> Bool in
                guard state.holdsNoSamples, !state.removed, !(state.pendingAppender != 0 && inFlight.contains(state.pendingAppender)) else { return false }
                state.removed = true
                memSeries.loggedToWAL.store(false, ordering: .relaxed)
                series.remove(memSeries)
                postings.remove(ref: memSeries.ref, labels: memSeries.labels)
                return true
            }
            if drop {
                dropped += 1
                droppedRefs.withLock { _ = $0.insert(memSeries.ref) }
            }
        }
        if dropped > 0 { metrics.seriesRemoved.increment(by: Int64(dropped)) }
        return dropped
    }

    /// Whether a WAL checkpoint may leave out the records of series `ref`: it was dropped for
    /// being empty and not put back. Every other reference is kept (a WAL may name one series
    /// by several references).
    package func checkpointDrops(_ ref: UInt64) -> Bool {
        droppedRefs.withLock { $0.contains(ref) } && series.series(ref: ref) == nil
    }

    /// Forgets the dropped references a checkpoint has dealt with.
    package func forgetDropped(_ refs: Set<UInt64>) {
        droppedRefs.withLock { $0.subtract(refs) }
    }

    /// The references dropped since the last checkpoint.
    package var droppedSeriesRefs: Set<UInt64> { droppedRefs.withLock { $0 } }

    /// Puts back a series dropped while an appender held it, and returns it; or, when a series
    /// with its labels was created meanwhile, returns that one (samples go there).
    package func restore(_ memSeries: MemSeries) -> MemSeries {
        let (current, created) = series.getOrCreate(labels: memSeries.labels, hash: memSeries.hash) { memSeries }
        if created || current === memSeries {
            memSeries.state.withLock { $0.removed = false }
            if created { postings.add(ref: memSeries.ref, labels: memSeries.labels) }
        }
        return current
    }

    private func indexNew(_ memSeries: MemSeries) {
        postings.add(ref: memSeries.ref, labels: memSeries.labels)
        metrics.seriesCreated.increment()
    }

    /// A new appender.
    package func appender() -> HeadAppender {
        HeadAppender(head: self)
    }
}

/// The oldest sample each open appender has buffered (Prometheus' isolation low watermark):
/// persisting a time range waits until no open appender holds a sample in it.
package final class InFlightAppends: Sendable {
    private let oldest = Mutex<[UInt64: Int64]>([:])

    package init() {}

    /// Whether the appender `id` has buffered samples it has not committed or rolled back.
    package func contains(_ id: UInt64) -> Bool {
        oldest.withLock { $0[id] != nil }
    }

    /// Notes that appender `id` buffers a sample at `timestampMs` (called when it lowers the
    /// appender's oldest, so about once per batch).
    func register(_ id: UInt64, _ timestampMs: Int64) {
        oldest.withLock { $0[id] = min($0[id] ?? .max, timestampMs) }
    }

    /// The appender committed or rolled back.
    func remove(_ id: UInt64) {
        _ = oldest.withLock { $0.removeValue(forKey: id) }
    }

    /// Whether an open appender holds a sample older than `timestampMs`.
    package func anyBefore(_ timestampMs: Int64) -> Bool {
        oldest.withLock { $0.values.contains { $0 < timestampMs } }
    }
}
