package import Metrics

/// Self-metrics of the head and WAL (`osprey_tsdb_*`), reported through swift-metrics.
package struct HeadMetrics: Sendable {
    /// Float samples committed.
    package let samplesAppended: Counter
    /// Histogram samples committed.
    package let histogramsAppended: Counter
    /// Series created.
    package let seriesCreated: Counter
    /// Series dropped for holding no sample any more.
    package let seriesRemoved: Counter
    /// Samples rejected as out of order, duplicate or out of bounds.
    package let samplesRejected: Counter
    /// Samples accepted inside the out-of-order window.
    package let outOfOrderAccepted: Counter
    /// Commits.
    package let commits: Counter
    /// WAL fsync calls.
    package let walFsyncs: Counter
    /// WAL fsync duration.
    package let walFsyncDuration: Timer
    /// WAL bytes written.
    package let walBytesWritten: Counter
    /// WAL write failures.
    package let walWriteFailures: Counter

    /// Creates the metrics with the global swift-metrics factory.
    package init() {
        samplesAppended = Counter(label: "osprey_tsdb_head_samples_appended_total", dimensions: [("type", "float")])
        histogramsAppended = Counter(label: "osprey_tsdb_head_samples_appended_total", dimensions: [("type", "histogram")])
        seriesCreated = Counter(label: "osprey_tsdb_head_series_created_total")
        seriesRemoved = Counter(label: "osprey_tsdb_head_series_removed_total")
        samplesRejected = Counter(label: "osprey_tsdb_head_samples_rejected_total")
        outOfOrderAccepted = Counter(label: "osprey_tsdb_head_out_of_order_samples_appended_total")
        commits = Counter(label: "osprey_tsdb_head_commits_total")
        walFsyncs = Counter(label: "osprey_tsdb_wal_fsyncs_total")
        walFsyncDuration = Timer(label: "osprey_tsdb_wal_fsync_duration_seconds")
        walBytesWritten = Counter(label: "osprey_tsdb_wal_bytes_written_total")
        walWriteFailures = Counter(label: "osprey_tsdb_wal_writes_failed_total")
    }
}
