/// When the WAL is flushed to stable storage.
package enum WALSyncPolicy: String, Hashable, Sendable, CaseIterable {
    /// Every commit is written to the segment file with write(2) before it is acknowledged, so it
    /// survives a crash or `kill -9` of the process; segments are fsynced every
    /// ``TSDBOptions/walSyncInterval`` and when a segment is completed (Prometheus' behaviour).
    case write
    /// Every commit is fsynced before it is acknowledged (group commit: concurrent commits share
    /// one fsync), so it also survives a power loss or kernel crash.
    case always
}

/// Options of the metrics engine. Defaults follow Prometheus.
package struct TSDBOptions: Hashable, Sendable {
    /// Number of lock stripes of the series maps (a power of two).
    package var stripeCount: Int = 1024
    /// A head chunk is cut after this many samples (Prometheus: 120).
    package var samplesPerChunk: Int = 120
    /// Head chunks never span a multiple of this range, so blocks can be cut along it (2 h).
    package var chunkRangeMs: Int64 = 2 * 3600 * 1000
    /// Samples this much older than a series' newest sample are still accepted (0 = none),
    /// Prometheus' `out_of_order_time_window`.
    package var outOfOrderTimeWindowMs: Int64 = 0
    /// Maximum size of a WAL segment file.
    package var walSegmentSizeBytes: Int = 128 << 20
    /// Compress WAL records with Snappy (Prometheus' `--storage.tsdb.wal-compression`).
    package var walCompression: Bool = false
    /// Durability of acknowledged writes.
    package var walSyncPolicy: WALSyncPolicy = .write
    /// Interval of background fsyncs under ``WALSyncPolicy/write``.
    package var walSyncInterval: Duration = .seconds(1)

    /// Blocks whose end is this much older than the newest block's end are deleted
    /// (`--storage.tsdb.retention.time`, 15 d).
    package var retentionMs: Int64 = 15 * 24 * 3600 * 1000
    /// The oldest blocks are deleted while blocks and WAL take more bytes than this (0: no
    /// limit; `--storage.tsdb.retention.size`).
    package var retentionBytes: Int64 = 0

    /// Options with Prometheus' defaults.
    package init() {}
}
