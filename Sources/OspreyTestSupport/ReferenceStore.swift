package import OspreyModel
package import OspreyStorage
import Synchronization

/// An obviously correct in-memory metric store: the reference every engine is compared with in
/// the storage conformance suite. Not fast; never used in production code.
package final class ReferenceStore: MetricAppendable, MetricQueryable, Sendable {
    private let series = Mutex<[Labels: [Sample]]>([:])
    /// Series references handed out: a series' labels keep their reference.
    private let refs = Mutex<(byLabels: [Labels: UInt64], byRef: [UInt64: Labels])>(([:], [:]))
    /// Out-of-order window in ms.
    package let outOfOrderWindowMs: Int64

    /// An empty store.
    package init(outOfOrderWindowMs: Int64 = 0) {
        self.outOfOrderWindowMs = outOfOrderWindowMs
    }

    package func appender() -> any MetricAppender {
        ReferenceAppender(store: self)
    }

    package func querier(minTimeMs: Int64, maxTimeMs: Int64) throws(StorageError) -> any MetricQuerier {
        let copy = series.withLock { $0 }
        return ReferenceQuerier(data: copy, minTimeMs: minTimeMs, maxTimeMs: maxTimeMs)
    }

    /// The labels and reference of a write, as the appender contract says: `labels` when given,
    /// else those `ref` stands for (`.unknownSeriesRef` when it stands for none).
    fileprivate func resolve(_ ref: SeriesRef?, _ labels: Labels) throws(StorageError) -> (Labels, SeriesRef) {
        try refs.withLock { refs throws(StorageError) in
            if labels.isEmpty {
                guard let ref else { throw StorageError(code: .invalidLabels, message: "series has no labels") }
                guard let known = refs.byRef[ref.rawValue] else {
                    throw StorageError(code: .unknownSeriesRef, message: "unknown series reference \(ref.rawValue)")
                }
                return (known, ref)
            }
            if let existing = refs.byLabels[labels] { return (labels, SeriesRef(existing)) }
            let fresh = UInt64(refs.byLabels.count + 1)
            refs.byLabels[labels] = fresh
            refs.byRef[fresh] = labels
            return (labels, SeriesRef(fresh))
        }
    }

    fileprivate func check(_ labels: Labels, _ timestampMs: Int64, _ value: Double, pending: [Sample]) throws(StorageError) -> Bool {
        let committed = series.withLock { $0[labels]?.last }
        let candidates = pending + (committed.map { [$0] } ?? [])
        guard let newest = candidates.max(by: { $0.timestampMs < $1.timestampMs }) else { return true }
        if timestampMs > newest.timestampMs { return true }
        let stored = series.withLock { $0[labels] ?? [] } + pending
        if let same = stored.first(where: { $0.timestampMs == timestampMs }) {
            if same.value.bitPattern == value.bitPattern { return false }
            throw StorageError(code: .duplicateSampleForTimestamp, message: "duplicate sample for timestamp")
        }
        if timestampMs < newest.timestampMs {
            if outOfOrderWindowMs == 0 { throw StorageError(code: .outOfOrderSample, message: "out of order sample") }
            if timestampMs < newest.timestampMs - outOfOrderWindowMs { throw StorageError(code: .tooOldSample, message: "too old sample") }
        }
        return true
    }

    fileprivate func commit(_ batch: [(Labels, Sample)]) {
        series.withLock { map in
            var touched = Set<Labels>()
            for (labels, sample) in batch {
                map[labels, default: []].append(sample)
                touched.insert(labels)
            }
            for labels in touched {
                var seen = Set<Int64>()
                let sorted = (map[labels] ?? []).enumerated().sorted { ($0.element.timestampMs, $0.offset) < ($1.element.timestampMs, $1.offset) }
                map[labels] = sorted.compactMap { seen.insert($0.element.timestampMs).inserted ? $0.element : nil }
            }
        }
    }
}

private final class ReferenceAppender: MetricAppender {
    let store: ReferenceStore
    var batch: [(Labels, Sample)] = []
    /// The batch's samples per series, for ordering checks without scanning the batch.
    var pendingBySeries: [Labels: [Sample]] = [:]

    init(store: ReferenceStore) {
        self.store = store
    }

    func append(_ ref: SeriesRef?, labels given: Labels, timestampMs: Int64, value: Double) throws(StorageError) -> SeriesRef {
        let (labels, ref) = try store.resolve(ref, given)
        let pending = pendingBySeries[labels] ?? []
        if try store.check(labels, timestampMs, value, pending: pending.last.map { [$0] } ?? []) {
            batch.append((labels, Sample(timestampMs: timestampMs, value: value)))
            pendingBySeries[labels, default: []].append(Sample(timestampMs: timestampMs, value: value))
        }
        return ref
    }

    func appendHistogram(_ ref: SeriesRef?, labels: Labels, timestampMs: Int64, histogram: FloatHistogram) throws(StorageError) -> SeriesRef {
        throw StorageError(code: .unsupported, message: "native histograms are not stored")
    }

    func appendExemplar(_ ref: SeriesRef?, labels: Labels, exemplar: Exemplar) throws(StorageError) -> SeriesRef { try store.resolve(ref, labels).1 }

    func updateMetadata(_ ref: SeriesRef?, labels: Labels, metadata: MetricMetadata) throws(StorageError) -> SeriesRef { try store.resolve(ref, labels).1 }

    func appendStartTimestamp(_ ref: SeriesRef?, labels: Labels, startTimestampMs: Int64, timestampMs: Int64) throws(StorageError) -> SeriesRef {
        try store.resolve(ref, labels).1
    }

    func commit() async throws(StorageError) -> AppendSummary {
        store.commit(batch)
        defer {
            batch.removeAll()
            pendingBySeries.removeAll()
        }
        return AppendSummary(floatSamples: batch.count)
    }

    func rollback() {
        batch.removeAll()
        pendingBySeries.removeAll()
    }
}

private final class ReferenceQuerier: MetricQuerier {
    let data: [Labels: [Sample]]
    let minTimeMs: Int64
    let maxTimeMs: Int64

    init(data: [Labels: [Sample]], minTimeMs: Int64, maxTimeMs: Int64) {
        self.data = data
        self.minTimeMs = minTimeMs
        self.maxTimeMs = maxTimeMs
    }

    private func matching(_ matchers: [LabelMatcher]) -> [(Labels, [Sample])] {
        data.compactMap { labels, samples in
            guard matchers.allSatisfy({ $0.matches(labels[$0.name] ?? "") }) else { return nil }
            let inRange = samples.filter { $0.timestampMs >= minTimeMs && $0.timestampMs <= maxTimeMs }
            return inRange.isEmpty ? nil : (labels, inRange)
        }
    }

    func select(sorted: Bool, hints: SelectHints?, matchers: [LabelMatcher]) throws(StorageError) -> any SeriesSet {
        var found = matching(matchers)
        found.sort { $0.0 < $1.0 }
        return ListSeriesSet(found.map { ListSeries(labels: $0.0, samples: $0.1) })
    }

    func labelValues(_ name: String, matchers: [LabelMatcher], limit: Int) throws(StorageError) -> [String] {
        let values = Set(matching(matchers).compactMap { $0.0[name] })
        let sorted = values.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
        return limit > 0 ? Array(sorted.prefix(limit)) : sorted
    }

    func labelNames(matchers: [LabelMatcher], limit: Int) throws(StorageError) -> [String] {
        let names = Set(matching(matchers).flatMap { $0.0.map(\.name) })
        let sorted = names.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
        return limit > 0 ? Array(sorted.prefix(limit)) : sorted
    }

    func close() {}
}

/// A series backed by an array of samples.
package struct ListSeries: StoredSeries {
    package let labels: Labels
    /// The samples in time order.
    package let samples: [Sample]

    /// Creates a series.
    package init(labels: Labels, samples: [Sample]) {
        self.labels = labels
        self.samples = samples
    }

    package func iterator(reusing previous: (any SampleIterator)?) -> any SampleIterator {
        ArraySampleIterator(samples)
    }
}

/// A series set over an array.
package final class ListSeriesSet: SeriesSet {
    private var items: [ListSeries]
    private var index = 0
    package var warnings: [String] { [] }

    /// Wraps the series.
    package init(_ items: [ListSeries]) {
        self.items = items
    }

    package func next() throws(StorageError) -> (any StoredSeries)? {
        guard index < items.count else { return nil }
        defer { index += 1 }
        return items[index]
    }
}

