import OspreyEncoding
import Synchronization
package import OspreyModel
package import OspreyStorage

/// Reads the head over a time range (the head's ``MetricQuerier``).
package final class HeadQuerier: MetricQuerier {
    private let head: Head
    private let minTimeMs: Int64
    private let maxTimeMs: Int64

    /// A querier over `[minTimeMs, maxTimeMs]`.
    package init(head: Head, minTimeMs: Int64, maxTimeMs: Int64) {
        self.head = head
        self.minTimeMs = minTimeMs
        self.maxTimeMs = maxTimeMs
    }

    package func select(sorted: Bool, hints: SelectHints?, matchers: [LabelMatcher]) throws(StorageError) -> any SeriesSet {
        let low = max(minTimeMs, hints?.startMs ?? .min)
        let high = min(maxTimeMs, hints?.endMs ?? .max)
        let seriesOnly = hints?.seriesOnly ?? false
        var result: [HeadStoredSeries] = []
        var refs: [UInt64] = []
        for ref in head.postings.postings(matching: matchers) {
            guard let series = head.series.series(ref: ref) else { continue }
            let (inRange, hasDeletions) = series.state.withLock { ($0.isEmpty ? false : overlaps($0, low, high), !$0.deleted.isEmpty) }
            guard inRange else { continue }
            if hasDeletions {
                // Series whose samples in range are all deleted are not returned, not even by
                // a series-only selection.
                let stored = HeadStoredSeries(labels: series.labels, series: series, minTimeMs: low, maxTimeMs: high)
                guard stored.iterator(reusing: nil).next() != .none else { continue }
                result.append(seriesOnly ? HeadStoredSeries(labels: series.labels, series: nil, minTimeMs: low, maxTimeMs: high) : stored)
            } else {
                result.append(HeadStoredSeries(labels: series.labels, series: seriesOnly ? nil : series, minTimeMs: low, maxTimeMs: high))
            }
            refs.append(ref)
        }
        if sorted && result.count > 1 {
            result = sortedByLabels(result, refs: refs, matchers: matchers)
        }
        if let limit = hints?.limit, limit > 0, result.count > limit { result.removeLast(result.count - limit) }
        return ArraySeriesSet(result)
    }

    /// `result` in label order: positions sorted, then each series moved once. When every
    /// series' first label is its name (no label name sorts before `__name__`), label order is
    /// name order, then the head's cached rank within the name: integer keys. Otherwise by
    /// byte keys of the labels.
    private func sortedByLabels(_ result: [HeadStoredSeries], refs: [UInt64], matchers: [LabelMatcher]) -> [HeadStoredSeries] {
        if let keys = rankKeys(result, refs: refs) {
            return result.indices.sorted { keys[$0] < keys[$1] }.map { result[$0] }
        }
        return Labels.sortedOrder(result.map(\.labels)).map { result[$0] }
    }

    /// Per series, its name's position among the selected names (high half) and its rank
    /// within the name (low half); nil when some series has no cached rank.
    private func rankKeys(_ result: [HeadStoredSeries], refs: [UInt64]) -> [UInt64]? {
        var names: [String] = []
        var nameOf: [Int] = []
        var nameIndex: [String: Int] = [:]
        nameOf.reserveCapacity(result.count)
        for series in result {
            guard let first = series.labels.labels.first, first.name == Labels.metricNameLabel else { return nil }
            if let last = names.last, last == first.value {
                nameOf.append(names.count - 1)
            } else if let index = nameIndex[first.value] {
                nameOf.append(index)
            } else {
                nameIndex[first.value] = names.count
                nameOf.append(names.count)
                names.append(first.value)
            }
        }
        var ranks: [[UInt64: Int32]] = []
        ranks.reserveCapacity(names.count)
        for name in names {
            guard let rank = head.order.ranks(named: name, postings: head.postings, labels: { head.series.series(ref: $0)?.labels }) else { return nil }
            ranks.append(rank)
        }
        var namePosition = [UInt64](repeating: 0, count: names.count)
        for (position, index) in names.indices.sorted(by: { names[$0].utf8.lexicographicallyPrecedes(names[$1].utf8) }).enumerated() {
            namePosition[index] = UInt64(position)
        }
        var keys: [UInt64] = []
        keys.reserveCapacity(refs.count)
        for (index, ref) in refs.enumerated() {
            guard let rank = ranks[nameOf[index]][ref] else { return nil }
            keys.append(namePosition[nameOf[index]] << 32 | UInt64(UInt32(bitPattern: rank)))
        }
        return keys
    }

    package func labelValues(_ name: String, matchers: [LabelMatcher], limit: Int) throws(StorageError) -> [String] {
        var values: [String]
        if matchers.isEmpty && !head.hasDeletions {
            values = head.postings.labelValues(name)
        } else {
            var set = Set<String>()
            forEachMatching(matchers) { labels in
                if let value = labels[name] { set.insert(value) }
            }
            values = set.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
        }
        if limit > 0 && values.count > limit { values.removeLast(values.count - limit) }
        return values
    }

    package func labelNames(matchers: [LabelMatcher], limit: Int) throws(StorageError) -> [String] {
        var names: [String]
        if matchers.isEmpty && !head.hasDeletions {
            names = head.postings.labelNames().filter { !head.postings.labelValues($0).isEmpty }
        } else {
            var set = Set<String>()
            forEachMatching(matchers) { labels in
                for label in labels { set.insert(label.name) }
            }
            names = set.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
        }
        if limit > 0 && names.count > limit { names.removeLast(names.count - limit) }
        return names
    }

    package func close() {}

    private func forEachMatching(_ matchers: [LabelMatcher], _ body: (Labels) -> Void) {
        for ref in head.postings.postings(matching: matchers) {
            guard let series = head.series.series(ref: ref) else { continue }
            let (inRange, hasDeletions) = series.state.withLock { ($0.isEmpty ? false : overlaps($0, minTimeMs, maxTimeMs), !$0.deleted.isEmpty) }
            guard inRange else { continue }
            if hasDeletions {
                let stored = HeadStoredSeries(labels: series.labels, series: series, minTimeMs: minTimeMs, maxTimeMs: maxTimeMs)
                guard stored.iterator(reusing: nil).next() != .none else { continue }
            }
            body(series.labels)
        }
    }
}

private func overlaps(_ state: SeriesState, _ low: Int64, _ high: Int64) -> Bool {
    let first = min(state.minTimeMs, state.outOfOrder.first?.timestampMs ?? .max)
    let last = max(state.maxTimeMs, state.outOfOrder.last?.timestampMs ?? .min)
    return first <= high && last >= low
}

/// One head series as returned to a reader. Its samples are read when asked for, each read
/// from a consistent snapshot taken under the series' lock (as Prometheus' head reads chunks
/// at iteration time); a class, so that readers passing series around as existentials hold
/// one reference.
package final class HeadStoredSeries: StoredSeries, Sendable {
    package let labels: Labels
    /// Nil for a series-only selection (labels without samples).
    let series: MemSeries?
    let minTimeMs: Int64
    let maxTimeMs: Int64

    init(labels: Labels, series: MemSeries?, minTimeMs: Int64, maxTimeMs: Int64) {
        self.labels = labels
        self.series = series
        self.minTimeMs = minTimeMs
        self.maxTimeMs = maxTimeMs
    }

    /// The chunks overlapping the range and the out-of-order samples, now.
    private var snapshot: SeriesSnapshot {
        series?.state.withLock { $0.snapshot(from: minTimeMs, through: maxTimeMs) }
            ?? SeriesSnapshot(chunks: [], outOfOrder: [])
    }

    package func iterator(reusing previous: (any SampleIterator)?) -> any SampleIterator {
        let snapshot = snapshot
        let iterator = HeadSampleIterator(snapshot: snapshot, minTimeMs: minTimeMs, maxTimeMs: maxTimeMs)
        return snapshot.deleted.isEmpty ? iterator : DeletionSkippingIterator(iterator, deleted: snapshot.deleted)
    }

    /// Chunks decoded in bulk straight into `buffer` when no out-of-order samples interleave.
    package func appendFloats(to buffer: inout [Sample]) {
        let snapshot = snapshot
        let start = buffer.count
        if snapshot.outOfOrder.isEmpty && HeadSampleIterator.sampleLayoutIsPacked {
            HeadSampleIterator.appendChunks(snapshot.chunks, minTimeMs: minTimeMs, maxTimeMs: maxTimeMs, to: &buffer)
        } else {
            _ = HeadSampleIterator(snapshot: snapshot, minTimeMs: minTimeMs, maxTimeMs: maxTimeMs).appendFloats(to: &buffer)
        }
        snapshot.deleted.remove(from: &buffer, startingAt: start)
    }

    /// Without copying or decoding when the window reaches the newest in-order sample or the
    /// one before (an instant query after or just before the last scrape), else from one
    /// chunk decoded in bulk; or a newer out-of-order sample.
    package func newestFloat(after lowMs: Int64, through highMs: Int64) -> Sample? {
        guard let series else { return nil }
        let high = min(highMs, maxTimeMs)
        let low = minTimeMs == .min ? lowMs : max(lowMs, minTimeMs - 1)
        guard low < high else { return nil }
        // In order: known (newest, previous) or to be decoded from the chunks (nil chunks: none).
        let (known, chunks, outOfOrder, hasDeletions): (Sample?, [HeadChunk]?, Sample?, Bool) = series.state.withLock { state in
            guard state.deleted.isEmpty else { return (nil, nil, nil, true) }
            var known: Sample?
            var chunks: [HeadChunk]?
            if state.maxTimeMs != .min {
                if state.maxTimeMs <= high {
                    known = Sample(timestampMs: state.maxTimeMs, value: state.lastValue)
                } else if state.previous.timestampMs != .min && state.previous.timestampMs <= high {
                    known = state.previous
                } else {
                    chunks = state.snapshot(from: low + 1, through: high).chunks
                }
            }
            // Out-of-order samples are sorted: the last one at or before `high`.
            var lowIndex = 0
            var highIndex = state.outOfOrder.count
            while lowIndex < highIndex {
                let mid = (lowIndex + highIndex) / 2
                if state.outOfOrder[mid].timestampMs <= high { lowIndex = mid + 1 } else { highIndex = mid }
            }
            return (known, chunks, lowIndex > 0 ? state.outOfOrder[lowIndex - 1] : nil, false)
        }
        if hasDeletions { return newestFloatByIterating(after: lowMs, through: highMs) }
        var best = known ?? chunks.flatMap { Self.newestInOrder($0, through: high) }
        // The in-order sample wins a tie, as in the iterator.
        if let outOfOrder, best.map({ outOfOrder.timestampMs > $0.timestampMs }) ?? true { best = outOfOrder }
        guard let best, best.timestampMs > low else { return nil }
        return best
    }

    /// The newest in-order sample at or before `highMs`: the last chunk starting by then,
    /// decoded in bulk.
    private static func newestInOrder(_ chunks: [HeadChunk], through highMs: Int64) -> Sample? {
        guard let chunk = chunks.last(where: { $0.minTimeMs <= highMs }), var decoder = try? XORChunkDecoder(chunk.bytes) else { return nil }
        return withUnsafeTemporaryAllocation(of: Sample.self, capacity: max(1, decoder.count)) { buffer -> Sample? in
            guard HeadSampleIterator.sampleLayoutIsPacked, let base = buffer.baseAddress else { return nil }
            let written = decoder.decode(into: UnsafeMutableRawPointer(base), capacity: buffer.count)
            var index = written - 1
            while index >= 0 && buffer[index].timestampMs > highMs { index -= 1 }
            return index >= 0 ? buffer[index] : nil
        }
    }
}
