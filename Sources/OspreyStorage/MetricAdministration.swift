package import OspreyModel

/// The TSDB administration behind Prometheus' `/api/v1/admin/tsdb/*` endpoints.
package protocol MetricAdministration: Sendable {
    /// Deletes the samples in `[minTimeMs, maxTimeMs]` (inclusive) of the series matching any
    /// of `matcherSets`: tombstones, durable when this returns, that reads honour at once and
    /// compaction applies.
    func deleteSeries(matcherSets: [[LabelMatcher]], minTimeMs: Int64, maxTimeMs: Int64) async throws(StorageError)

    /// Rewrites every block with tombstones without the deleted data.
    func cleanTombstones() async throws(StorageError)

    /// Writes a consistent copy of the data (blocks hard-linked, and unless `skipHead` the head
    /// as a block) to `snapshots/<name>` under the data directory; returns the name.
    func snapshot(skipHead: Bool) async throws(StorageError) -> String
}
