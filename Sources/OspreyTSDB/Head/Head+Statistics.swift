import Synchronization
import OspreyModel
package import OspreyStorage

extension Head {
    /// Cardinality statistics with top-`limit` lists, as Prometheus' `/api/v1/status/tsdb`.
    package func statistics(limit: Int) -> HeadStatistics {
        var seriesPerMetric: [String: UInt64] = [:]
        var chunkCount: UInt64 = 0
        var bytesPerName: [String: UInt64] = [:]
        series.forEach { memSeries in
            let chunks = memSeries.state.withLock { $0.chunkCount }
            chunkCount += UInt64(chunks)
            if let name = memSeries.labels.metricName { seriesPerMetric[name, default: 0] += 1 }
            for label in memSeries.labels { bytesPerName[label.name, default: 0] += UInt64(label.value.utf8.count) }
        }
        let cardinality = postings.cardinality()
        let nonEmptyPairs = cardinality.seriesPerPair.filter { $0.2 > 0 }
        return HeadStatistics(
            numSeries: UInt64(series.seriesCount),
            numLabelPairs: UInt64(nonEmptyPairs.count),
            chunkCount: chunkCount,
            minTimeMs: minTimeMs,
            maxTimeMs: maxTimeMs,
            seriesCountByMetricName: top(seriesPerMetric.map { .init(name: $0.key, value: $0.value) }, limit),
            labelValueCountByLabelName: top(
                Dictionary(grouping: nonEmptyPairs, by: { $0.0 }).map { .init(name: $0.key, value: UInt64($0.value.count)) }, limit),
            memoryInBytesByLabelName: top(bytesPerName.map { .init(name: $0.key, value: $0.value) }, limit),
            seriesCountByLabelValuePair: top(nonEmptyPairs.map { .init(name: "\($0.0)=\($0.1)", value: UInt64($0.2)) }, limit)
        )
    }
}

private func top(_ entries: [HeadStatistics.Entry], _ limit: Int) -> [HeadStatistics.Entry] {
    let sorted = entries.sorted { $0.value != $1.value ? $0.value > $1.value : $0.name < $1.name }
    return Array(sorted.prefix(limit))
}
