package import OspreyModel

/// A series set over an array a querier built.
package final class ArraySeriesSet: SeriesSet {
    private var items: [any StoredSeries]
    private var index = 0
    package let warnings: [String]

    /// Wraps series in the order given.
    package init(_ items: [any StoredSeries], warnings: [String] = []) {
        self.items = items
        self.warnings = warnings
    }

    package func next() throws(StorageError) -> (any StoredSeries)? {
        guard index < items.count else { return nil }
        defer { index += 1 }
        return items[index]
    }
}

/// Iterates float samples held in an array (sorted by time).
package final class ArraySampleIterator: SampleIterator {
    private let samples: [Sample]
    private var index = -1

    /// Iterates `samples`.
    package init(_ samples: [Sample]) {
        self.samples = samples
    }

    package var floatSample: Sample { samples[index] }
    package var timestampMs: Int64 { samples[index].timestampMs }
    package var histogramSample: (timestampMs: Int64, histogram: FloatHistogram) {
        (timestampMs, FloatHistogram(schema: 0, count: 0, sum: 0))
    }

    package func next() -> SampleValueType {
        index += 1
        return index < samples.count ? .float : .none
    }

    package func seek(to timestampMs: Int64) -> SampleValueType {
        if index < 0 { index = 0 }
        while index < samples.count && samples[index].timestampMs < timestampMs { index += 1 }
        return index < samples.count ? .float : .none
    }
}
