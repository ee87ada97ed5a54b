package import OspreyModel
import Synchronization

/// The label order of the head's series, per metric name, kept between queries: readers
/// return series sorted by labels, and most selections are of one metric name, so ranking
/// that name's series once (until its set of series changes) turns each later sort into
/// integer comparisons instead of label comparisons.
package final class SeriesOrder: Sendable {
    private struct Ranking {
        var generation: UInt64
        var rank: [UInt64: Int32]
    }

    /// Names with more series than this are sorted per query instead (bounded memory).
    static let maxSeriesPerName = 1 << 18
    /// At most this many names are kept; the cache starts over beyond.
    static let maxNames = 4096

    private let rankings = Mutex<[String: Ranking]>([:])

    package init() {}

    /// The rank of every series named `name` in label order, nil when there are too many.
    func ranks(named name: String, postings: MemPostings, labels: (UInt64) -> Labels?) -> [UInt64: Int32]? {
        let generation = postings.generation(ofName: name)
        if let cached = rankings.withLock({ $0[name] }), cached.generation == generation { return cached.rank }
        let (refs, current) = postings.series(named: name)
        guard refs.count <= Self.maxSeriesPerName else { return nil }
        var known: [UInt64] = []
        var sets: [Labels] = []
        known.reserveCapacity(refs.count)
        sets.reserveCapacity(refs.count)
        for ref in refs {
            guard let labelSet = labels(ref) else { continue }
            known.append(ref)
            sets.append(labelSet)
        }
        var rank: [UInt64: Int32] = [:]
        rank.reserveCapacity(known.count)
        for (position, index) in Labels.sortedOrder(sets).enumerated() { rank[known[index]] = Int32(position) }
        rankings.withLock { rankings in
            if rankings.count >= Self.maxNames { rankings.removeAll() }
            rankings[name] = Ranking(generation: current, rank: rank)
        }
        return rank
    }
}
