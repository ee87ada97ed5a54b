package import OspreyModel

/// The exemplars of one series.
package struct SeriesExemplars: Hashable, Sendable {
    /// The series.
    package var labels: Labels
    /// Its exemplars in the range, oldest first.
    package var exemplars: [Exemplar]

    /// Bundles a series and its exemplars.
    package init(labels: Labels, exemplars: [Exemplar]) {
        self.labels = labels
        self.exemplars = exemplars
    }
}

/// Something that keeps exemplars and finds them by series (Prometheus' `ExemplarQueryable`,
/// behind `/api/v1/query_exemplars`).
package protocol ExemplarQueryable: Sendable {
    /// The exemplars in `[minTimeMs, maxTimeMs]` of the series matching any of `matcherSets`,
    /// series in label order.
    func exemplars(matcherSets: [[LabelMatcher]], minTimeMs: Int64, maxTimeMs: Int64) throws(StorageError) -> [SeriesExemplars]
}
