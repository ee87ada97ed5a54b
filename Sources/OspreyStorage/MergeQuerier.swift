package import OspreyModel

/// Reads several queriers as one (Prometheus' `storage.NewMergeQuerier`): series with the same
/// labels in several sources (a block and the head, overlapping blocks) become one series
/// whose samples are merged by time, a timestamp present twice kept once (the first source's).
package final class MergeQuerier: MetricQuerier {
    private let queriers: [any MetricQuerier]

    /// Merges `queriers`, earlier ones winning duplicate timestamps.
    package init(_ queriers: [any MetricQuerier]) {
        self.queriers = queriers
    }

    package func select(sorted: Bool, hints: SelectHints?, matchers: [LabelMatcher]) throws(StorageError) -> any SeriesSet {
        var bySource: [[any StoredSeries]] = []
        var warnings: [String] = []
        for querier in queriers {
            let set = try querier.select(sorted: true, hints: hints, matchers: matchers)
            var list: [any StoredSeries] = []
            while let series = try set.next() { list.append(series) }
            warnings += set.warnings
            bySource.append(list)
        }
        // Sources holding the same series (blocks of a stable set of series): pair them up.
        let nonEmpty = bySource.filter { !$0.isEmpty }
        if let first = nonEmpty.first, nonEmpty.count > 1,
           nonEmpty.allSatisfy({ $0.count == first.count }),
           first.indices.allSatisfy({ index in nonEmpty.dropFirst().allSatisfy { $0[index].labels == first[index].labels } })
        {
            var out: [any StoredSeries] = []
            out.reserveCapacity(first.count)
            for index in first.indices {
                out.append(MergedSeries(labels: first[index].labels, parts: nonEmpty.map { $0[index] }))
                if let limit = hints?.limit, limit > 0, out.count >= limit { break }
            }
            return ArraySeriesSet(out, warnings: warnings)
        }
        // Merge the sorted lists, grouping equal label sets.
        var positions = [Int](repeating: 0, count: bySource.count)
        var out: [any StoredSeries] = []
        while true {
            var smallest: Labels?
            for (source, list) in bySource.enumerated() where positions[source] < list.count {
                let labels = list[positions[source]].labels
                if smallest.map({ labels < $0 }) ?? true { smallest = labels }
            }
            guard let labels = smallest else { break }
            var parts: [any StoredSeries] = []
            for (source, list) in bySource.enumerated() where positions[source] < list.count && list[positions[source]].labels == labels {
                parts.append(list[positions[source]])
                positions[source] += 1
            }
            out.append(parts.count == 1 ? parts[0] : MergedSeries(labels: labels, parts: parts))
            if let limit = hints?.limit, limit > 0, out.count >= limit { break }
        }
        return ArraySeriesSet(out, warnings: warnings)
    }

    package func labelValues(_ name: String, matchers: [LabelMatcher], limit: Int) throws(StorageError) -> [String] {
        var values = Set<String>()
        for querier in queriers { values.formUnion(try querier.labelValues(name, matchers: matchers, limit: 0)) }
        var sorted = values.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
        if limit > 0 && sorted.count > limit { sorted.removeLast(sorted.count - limit) }
        return sorted
    }

    package func labelNames(matchers: [LabelMatcher], limit: Int) throws(StorageError) -> [String] {
        var names = Set<String>()
        for querier in queriers { names.formUnion(try querier.labelNames(matchers: matchers, limit: 0)) }
        var sorted = names.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
        if limit > 0 && sorted.count > limit { sorted.removeLast(sorted.count - limit) }
        return sorted
    }

    package func close() {
        for querier in queriers { querier.close() }
    }
}

/// A series stored in several places, read as one.
final class MergedSeries: StoredSeries {
    let labels: Labels
    private let parts: [any StoredSeries]

    init(labels: Labels, parts: [any StoredSeries]) {
        self.labels = labels
        self.parts = parts
    }

    func iterator(reusing previous: (any SampleIterator)?) -> any SampleIterator {
        var samples: [Sample] = []
        appendFloats(to: &samples)
        return ArraySampleIterator(samples)
    }

    /// The parts' samples merged by time; of equal timestamps the earliest part's is kept.
    /// Parts that follow each other in time (blocks, then the head) are simply appended.
    func appendFloats(to buffer: inout [Sample]) {
        let start = buffer.count
        var inOrder = true
        for part in parts {
            let before = buffer.count
            part.appendFloats(to: &buffer)
            if before > start && buffer.count > before && buffer[before].timestampMs <= buffer[before - 1].timestampMs {
                inOrder = false
                break
            }
        }
        guard !inOrder else { return }
        buffer.removeSubrange(start...)
        var merged: [Sample] = []
        for part in parts {
            var samples: [Sample] = []
            part.appendFloats(to: &samples)
            merged = Sample.mergedByTime(merged, samples)
        }
        buffer.append(contentsOf: merged)
    }
}
