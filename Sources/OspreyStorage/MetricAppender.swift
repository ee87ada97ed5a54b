package import OspreyModel

/// A reference to a series inside one storage engine, valid while the series is in the engine.
/// Callers may cache it (per scrape target, per remote-write connection) and pass it back to skip
/// the label lookup; an engine that no longer knows it throws `.unknownSeriesRef`.
package struct SeriesRef: Hashable, Sendable, Comparable, CustomStringConvertible {
    /// The engine's numeric identifier; 0 is never a valid reference.
    package var rawValue: UInt64

    /// Wraps a raw reference.
    package init(_ rawValue: UInt64) {
        self.rawValue = rawValue
    }

    package static func < (lhs: SeriesRef, rhs: SeriesRef) -> Bool { lhs.rawValue < rhs.rawValue }
    package var description: String { String(rawValue) }
}

/// Something that accepts metric writes (Prometheus' `storage.Appendable`).
package protocol MetricAppendable: Sendable {
    /// A new appender for one batch of writes. Appenders are cheap; use one per request.
    func appender() -> any MetricAppender
}

/// One batch of metric writes (Prometheus' `storage.Appender`).
///
/// Contract:
/// - Writes are buffered and become visible to queriers only after ``commit()`` returns.
/// - ``commit()`` returns only once every accepted write is in the engine's write-ahead log with
///   the engine's durability guarantee (for the TSDB: it survives a crash of the process).
/// - A write that throws leaves the batch otherwise intact: the caller may go on with the other
///   writes and commit them, or ``rollback()`` everything.
/// - Not thread-safe: one task uses an appender at a time. It must end with commit or rollback.
/// - Per-sample methods never suspend; only ``commit()`` may wait for I/O.
package protocol MetricAppender: AnyObject {
    /// Adds a float sample. `ref` may be nil; the returned reference can be passed next time.
    /// Throws `.outOfOrderSample`, `.duplicateSampleForTimestamp`, `.outOfBounds`,
    /// `.tooOldSample`, `.invalidLabels` or `.unknownSeriesRef` (when `labels` is empty and
    /// `ref` is stale).
    func append(_ ref: SeriesRef?, labels: Labels, timestampMs: Int64, value: Double) throws(StorageError) -> SeriesRef

    /// Adds a native histogram sample (integer histograms are converted to float form by the caller).
    func appendHistogram(_ ref: SeriesRef?, labels: Labels, timestampMs: Int64, histogram: FloatHistogram) throws(StorageError) -> SeriesRef

    /// Attaches an exemplar to the series.
    func appendExemplar(_ ref: SeriesRef?, labels: Labels, exemplar: Exemplar) throws(StorageError) -> SeriesRef

    /// Records type, unit and help of the series' metric family.
    func updateMetadata(_ ref: SeriesRef?, labels: Labels, metadata: MetricMetadata) throws(StorageError) -> SeriesRef

    /// Records that the series (a counter or histogram) started at `startTimestampMs`, as
    /// Prometheus' created-timestamp zero sample: a 0 sample at that time if it is newer than
    /// what the series holds.
    func appendStartTimestamp(_ ref: SeriesRef?, labels: Labels, startTimestampMs: Int64, timestampMs: Int64) throws(StorageError) -> SeriesRef

    /// Makes the batch durable and visible; returns what was stored.
    func commit() async throws(StorageError) -> AppendSummary

    /// Discards the batch.
    func rollback()

    /// Says about how many samples the batch will hold, so that its buffers grow once.
    func reserveCapacity(samples: Int)
}

extension MetricAppender {
    /// Nothing to reserve by default.
    package func reserveCapacity(samples: Int) {}
}

/// What a committed batch stored.
package struct AppendSummary: Hashable, Sendable {
    /// Float samples stored (identical duplicates count as stored).
    package var floatSamples: Int
    /// Histogram samples stored.
    package var histogramSamples: Int
    /// Exemplars stored.
    package var exemplars: Int
    /// Series created by this batch.
    package var seriesCreated: Int

    /// Creates a summary.
    package init(floatSamples: Int = 0, histogramSamples: Int = 0, exemplars: Int = 0, seriesCreated: Int = 0) {
        self.floatSamples = floatSamples
        self.histogramSamples = histogramSamples
        self.exemplars = exemplars
        self.seriesCreated = seriesCreated
    }
}
