package import OspreyModel

/// Something that answers metric reads over a time range (Prometheus' `storage.Queryable`).
package protocol MetricQueryable: Sendable {
    /// A querier over `[minTimeMs, maxTimeMs]` (inclusive, milliseconds). The querier sees a
    /// consistent view: writes committed after it was created may or may not be visible.
    func querier(minTimeMs: Int64, maxTimeMs: Int64) throws(StorageError) -> any MetricQuerier
}

/// Hints a reader passes down; engines may use them to skip work.
package struct SelectHints: Hashable, Sendable {
    /// Start of the time range the caller needs (ms, inclusive).
    package var startMs: Int64
    /// End of the time range the caller needs (ms, inclusive).
    package var endMs: Int64
    /// Maximum number of series to return; 0 means no limit.
    package var limit: Int
    /// Only labels are needed, no samples (the `/api/v1/series` case).
    package var seriesOnly: Bool

    /// Creates hints.
    package init(startMs: Int64, endMs: Int64, limit: Int = 0, seriesOnly: Bool = false) {
        self.startMs = startMs
        self.endMs = endMs
        self.limit = limit
        self.seriesOnly = seriesOnly
    }
}

/// Reads series and label data for one time range (Prometheus' `storage.Querier`).
///
/// Ownership: everything returned is a copy the caller owns; it stays valid after ``close()``.
package protocol MetricQuerier: AnyObject {
    /// Series matching all `matchers` that have at least one sample in range (or, with
    /// `hints.seriesOnly`, exist in range). `sorted` asks for label-set order.
    func select(sorted: Bool, hints: SelectHints?, matchers: [LabelMatcher]) throws(StorageError) -> any SeriesSet

    /// Sorted unique values of label `name` among series matching `matchers` (all series when
    /// empty). `limit` 0 means no limit.
    func labelValues(_ name: String, matchers: [LabelMatcher], limit: Int) throws(StorageError) -> [String]

    /// Sorted unique label names among series matching `matchers`. `limit` 0 means no limit.
    func labelNames(matchers: [LabelMatcher], limit: Int) throws(StorageError) -> [String]

    /// Releases resources; the querier is not used afterwards.
    func close()
}

/// An iterator over series (Prometheus' `storage.SeriesSet`).
package protocol SeriesSet: AnyObject {
    /// The next series, or nil at the end.
    func next() throws(StorageError) -> (any StoredSeries)?
    /// Warnings collected while reading (e.g. a partial result).
    var warnings: [String] { get }
}

/// One series: its labels and a way to iterate its samples.
package protocol StoredSeries {
    /// The series' labels.
    var labels: Labels { get }
    /// An iterator over the series' samples in time order; may reuse `previous`.
    func iterator(reusing previous: (any SampleIterator)?) -> any SampleIterator
    /// The newest float sample with a timestamp in `(lowMs, highMs]` (staleness markers
    /// included), nil when there is none: what an instant selector reads. Stores that know
    /// their newest sample answer without decoding.
    func newestFloat(after lowMs: Int64, through highMs: Int64) -> Sample?
    /// Appends all the series' float samples (staleness markers included) to `buffer`, up to
    /// the first histogram sample: ``SampleIterator/appendFloats(to:)`` from the start,
    /// without an iterator where the store can.
    func appendFloats(to buffer: inout [Sample])
}

extension StoredSeries {
    /// Through a new iterator.
    package func appendFloats(to buffer: inout [Sample]) {
        _ = iterator(reusing: nil).appendFloats(to: &buffer)
    }

    /// By iterating the samples.
    package func newestFloat(after lowMs: Int64, through highMs: Int64) -> Sample? {
        newestFloatByIterating(after: lowMs, through: highMs)
    }

    /// ``newestFloat(after:through:)`` by iterating the samples up to `highMs`.
    package func newestFloatByIterating(after lowMs: Int64, through highMs: Int64) -> Sample? {
        guard lowMs < highMs else { return nil }
        let iterator = iterator(reusing: nil)
        guard iterator.seek(to: lowMs + 1) == .float else { return nil }
        var newest: Sample?
        repeat {
            let sample = iterator.floatSample
            guard sample.timestampMs <= highMs else { break }
            newest = sample
        } while iterator.next() == .float
        return newest
    }
}

/// What an iterator position holds (Prometheus' `chunkenc.ValueType`).
package enum SampleValueType: Hashable, Sendable {
    case none, float, histogram
}

/// Iterates the samples of one series in time order (Prometheus' `chunkenc.Iterator`).
package protocol SampleIterator: AnyObject {
    /// Advances; returns `.none` at the end.
    func next() -> SampleValueType
    /// Advances to the first sample with timestamp ≥ `timestampMs` (staying put if already
    /// there); returns `.none` when there is none.
    func seek(to timestampMs: Int64) -> SampleValueType
    /// The current float sample (valid after `.float`).
    var floatSample: Sample { get }
    /// The current histogram sample (valid after `.histogram`).
    var histogramSample: (timestampMs: Int64, histogram: FloatHistogram) { get }
    /// The current timestamp.
    var timestampMs: Int64 { get }
    /// Advances through the remaining float samples, appending each (staleness markers
    /// included) to `buffer`, and stops after the last one or at the first histogram sample,
    /// which it leaves current. Returns what stopped it (`.none` or `.histogram`). Readers of
    /// whole series call this instead of `next()` per sample so that stores can decode a chunk
    /// at a time.
    func appendFloats(to buffer: inout [Sample]) -> SampleValueType
}

extension SampleIterator {
    /// The per-sample loop, for stores without a faster way.
    package func appendFloats(to buffer: inout [Sample]) -> SampleValueType {
        while true {
            let kind = next()
            guard kind == .float else { return kind }
            buffer.append(floatSample)
        }
    }
}
