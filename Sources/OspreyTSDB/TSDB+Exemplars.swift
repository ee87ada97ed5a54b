package import OspreyModel
package import OspreyStorage
import Synchronization

extension TSDB: ExemplarQueryable {
    /// Exemplars are kept in the head (the newest per series, also in the WAL), as in Prometheus'
    /// circular exemplar storage; blocks hold none.
    package func exemplars(matcherSets: [[LabelMatcher]], minTimeMs: Int64, maxTimeMs: Int64) throws(StorageError) -> [SeriesExemplars] {
        var seen = Set<UInt64>()
        var found: [SeriesExemplars] = []
        for matchers in matcherSets {
            for ref in head.postings.postings(matching: matchers) where seen.insert(ref).inserted {
                guard let series = head.series.series(ref: ref) else { continue }
                let exemplars = series.state.withLock { state in
                    state.exemplars.filter { exemplar in
                        guard let timestamp = exemplar.timestampMs else { return true }
                        return timestamp >= minTimeMs && timestamp <= maxTimeMs
                    }
                }
                if !exemplars.isEmpty { found.append(SeriesExemplars(labels: series.labels, exemplars: exemplars)) }
            }
        }
        found.sort { $0.labels < $1.labels }
        return found
    }
}
