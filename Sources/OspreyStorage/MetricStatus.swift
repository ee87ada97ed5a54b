package import OspreyModel

/// Cardinality statistics of an engine's head, as Prometheus' `/api/v1/status/tsdb`.
package struct HeadStatistics: Hashable, Sendable {
    /// A name and a count, for the top-N lists.
    package struct Entry: Hashable, Sendable {
        /// Metric name, label name or `name=value` pair.
        package var name: String
        /// Series count, value count or memory in bytes, depending on the list.
        package var value: UInt64

        /// Creates an entry.
        package init(name: String, value: UInt64) {
            self.name = name
            self.value = value
        }
    }

    /// Series in the head.
    package var numSeries: UInt64
    /// Distinct label pairs in the head.
    package var numLabelPairs: UInt64
    /// Chunks held by the head.
    package var chunkCount: UInt64
    /// Oldest sample in the head (ms), or nil when empty.
    package var minTimeMs: Int64?
    /// Newest sample in the head (ms), or nil when empty.
    package var maxTimeMs: Int64?
    /// Metric names with the most series.
    package var seriesCountByMetricName: [Entry]
    /// Label names with the most distinct values.
    package var labelValueCountByLabelName: [Entry]
    /// Label names using the most memory (sum of value lengths over series).
    package var memoryInBytesByLabelName: [Entry]
    /// Label pairs with the most series.
    package var seriesCountByLabelValuePair: [Entry]

    /// Creates statistics.
    package init(
        numSeries: UInt64, numLabelPairs: UInt64, chunkCount: UInt64, minTimeMs: Int64?, maxTimeMs: Int64?,
        seriesCountByMetricName: [Entry], labelValueCountByLabelName: [Entry],
        memoryInBytesByLabelName: [Entry], seriesCountByLabelValuePair: [Entry]
    ) {
        self.numSeries = numSeries
        self.numLabelPairs = numLabelPairs
        self.chunkCount = chunkCount
        self.minTimeMs = minTimeMs
        self.maxTimeMs = maxTimeMs
        self.seriesCountByMetricName = seriesCountByMetricName
        self.labelValueCountByLabelName = labelValueCountByLabelName
        self.memoryInBytesByLabelName = memoryInBytesByLabelName
        self.seriesCountByLabelValuePair = seriesCountByLabelValuePair
    }
}

/// An engine that reports head cardinality statistics.
package protocol HeadStatisticsProvider: Sendable {
    /// Statistics with top-`limit` lists; `matchers` restricts them to matching series.
    func headStatistics(limit: Int) -> HeadStatistics
    /// The persisted blocks, oldest first (none for engines without blocks).
    func blockDescriptions() -> [BlockDescription]
}

extension HeadStatisticsProvider {
    /// No blocks.
    package func blockDescriptions() -> [BlockDescription] { [] }
}

/// A persisted block, as its `meta.json` describes it.
package struct BlockDescription: Hashable, Sendable {
    package var ulid: String
    /// The block covers `[minTimeMs, maxTimeMs)`.
    package var minTimeMs: Int64
    package var maxTimeMs: Int64
    package var numSamples: UInt64
    package var numSeries: UInt64
    package var numChunks: UInt64
    /// 1 for a block cut from the head, one more per compaction.
    package var compactionLevel: Int

    package init(ulid: String, minTimeMs: Int64, maxTimeMs: Int64, numSamples: UInt64, numSeries: UInt64, numChunks: UInt64, compactionLevel: Int) {
        self.ulid = ulid
        self.minTimeMs = minTimeMs
        self.maxTimeMs = maxTimeMs
        self.numSamples = numSamples
        self.numSeries = numSeries
        self.numChunks = numChunks
        self.compactionLevel = compactionLevel
    }
}
