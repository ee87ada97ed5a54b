import Synchronization

/// Running totals that turn OTLP delta points into cumulative ones, per stream (one per
/// resulting Prometheus series: metric name and labels), as the OpenTelemetry Collector's
/// `deltatocumulative` processor does:
/// - the first point of a stream starts its total; the cumulative series starts there;
/// - each later point adds to it when it is newer than the last one (a gap is fine), and is
///   rejected when it is not (an overlap or a resend) or starts before the stream did;
/// - histograms add bucket by bucket (a bucket new to the stream starts at zero);
/// - a stream not updated for ``idleTimeoutNs`` is forgotten (a stream that comes back starts
///   again from zero: a counter reset, which `rate()` handles);
/// - at most ``capacity`` streams are tracked; points of new streams beyond that are rejected.
/// Updates are atomic per stream, so concurrent requests add up; a request that is not stored
/// in the end undoes its updates. State lives in memory only: after a restart, totals start
/// again from zero (a reset).
package final class OTLPDeltaStore: Sendable {
    /// One stream's total.
    struct Stream: Sendable, Equatable {
        var lastTimeNs: UInt64
        var startTimeNs: UInt64
        var value: Double = 0
        var buckets: OTLPBuckets?
    }

    /// Why a delta point was not added.
    enum Refusal: Error {
        case notNewer, startsBeforeStream, full, incompatible

        var message: String {
            switch self {
            case .notNewer: return "delta point not newer than the stream's last point"
            case .startsBeforeStream: return "delta point starts before its stream began"
            case .full: return "too many delta streams to convert to cumulative"
            case .incompatible: return "delta point of another type than its stream"
            }
        }
    }

    private final class Shard: Sendable {
        let streams = Mutex([SeriesRefCache.Fingerprint: Stream]())
    }

    private let shards: [Shard]
    private let perShardCapacity: Int
    private let lastSweepNs = Atomic<UInt64>(0)
    /// How long an idle stream is kept, ns.
    package let idleTimeoutNs: UInt64

    /// A store of at most `capacity` streams, each forgotten after `idleTimeoutNs` without points.
    package init(capacity: Int = 1 << 20, idleTimeoutNs: UInt64 = 3600 * 1_000_000_000, shardCount: Int = 64) {
        shards = (0..<shardCount).map { _ in Shard() }
        perShardCapacity = max(1, capacity / shardCount)
        self.idleTimeoutNs = idleTimeoutNs
    }

    private func shard(_ key: SeriesRefCache.Fingerprint) -> Shard {
        shards[Int(key.low % UInt64(shards.count))]
    }

    /// Adds a point to its stream atomically: `update` gets the stream (nil for a new one) and
    /// returns the new state. Returns the new state and the previous one (to undo with).
    func accumulate(
        _ key: SeriesRefCache.Fingerprint, startNs: UInt64, timeNs: UInt64, nowNs: UInt64,
        _ update: (Stream?) -> Result<Stream, Refusal>
    ) -> Result<(new: Stream, previous: Stream?), Refusal> {
        sweepIfDue(nowNs: nowNs)
        let capacity = perShardCapacity
        return shard(key).streams.withLock { streams in
            let previous = streams[key]
            if let previous {
                guard timeNs > previous.lastTimeNs else { return .failure(.notNewer) }
                if startNs != 0 && startNs < previous.startTimeNs { return .failure(.startsBeforeStream) }
            } else if streams.count >= capacity {
                return .failure(.full)
            }
            switch update(previous) {
            case .success(let new):
                streams[key] = new
                return .success((new, previous))
            case .failure(let refusal):
                return .failure(refusal)
            }
        }
    }

    /// Puts a stream back as it was before an update that is not stored after all, unless
    /// another update came since.
    func undo(_ key: SeriesRefCache.Fingerprint, to previous: Stream?, ifStill current: Stream) {
        shard(key).streams.withLock { streams in
            guard streams[key] == current else { return }
            streams[key] = previous
        }
    }

    /// Forgets streams idle for longer than the timeout, at most once a minute.
    private func sweepIfDue(nowNs: UInt64) {
        let last = lastSweepNs.load(ordering: .relaxed)
        guard nowNs > last + 60 * 1_000_000_000,
              lastSweepNs.compareExchange(expected: last, desired: nowNs, ordering: .relaxed).exchanged else { return }
        let cutoff = nowNs > idleTimeoutNs ? nowNs - idleTimeoutNs : 0
        for shard in shards {
            shard.streams.withLock { streams in
                if streams.values.contains(where: { $0.lastTimeNs < cutoff }) {
                    streams = streams.filter { $0.value.lastTimeNs >= cutoff }
                }
            }
        }
    }

    /// Streams tracked.
    package var count: Int {
        shards.reduce(0) { total, shard in total + shard.streams.withLock { $0.count } }
    }
}

/// A histogram's buckets in classic form: ascending upper bounds (without `+Inf`), the count
/// of each bucket (not cumulative), the sum if known and the total count (the `+Inf` bucket).
struct OTLPBuckets: Hashable, Sendable {
    var bounds: [Double]
    var counts: [Double]
    var sum: Double?
    var count: Double
    /// For buckets converted from an exponential histogram: the exponent step between
    /// neighbouring power-of-two bounds (1 at scale ≥ 0, 2^-scale below).
    var exponentStep: Int64?

    /// Adds `other` bucket by bound; bounds only one side has are kept.
    func adding(_ other: OTLPBuckets) -> OTLPBuckets {
        var bounds: [Double] = []
        var counts: [Double] = []
        bounds.reserveCapacity(max(self.bounds.count, other.bounds.count))
        var i = 0
        var j = 0
        while i < self.bounds.count || j < other.bounds.count {
            if j >= other.bounds.count || (i < self.bounds.count && self.bounds[i] < other.bounds[j]) {
                bounds.append(self.bounds[i])
                counts.append(self.counts[i])
                i += 1
            } else if i >= self.bounds.count || other.bounds[j] < self.bounds[i] {
                bounds.append(other.bounds[j])
                counts.append(other.counts[j])
                j += 1
            } else {
                bounds.append(self.bounds[i])
                counts.append(self.counts[i] + other.counts[j])
                i += 1
                j += 1
            }
        }
        let sum: Double? = (self.sum == nil && other.sum == nil) ? nil : (self.sum ?? 0) + (other.sum ?? 0)
        var total = OTLPBuckets(bounds: bounds, counts: counts, sum: sum, count: count + other.count)
        if let step = exponentStep, step == other.exponentStep {
            total.exponentStep = step
            total.fillPowerOfTwoGaps(step: step)
        }
        return total
    }

    /// Adds the empty power-of-two buckets missing between two of the same sign, so that a sum
    /// of exponential histograms has the bounds one histogram of the whole range would have.
    mutating func fillPowerOfTwoGaps(step: Int64) {
        var newBounds: [Double] = []
        var newCounts: [Double] = []
        newBounds.reserveCapacity(bounds.count)
        newCounts.reserveCapacity(counts.count)
        for index in bounds.indices {
            if index > 0, let missing = Self.powersBetween(bounds[index - 1], bounds[index], step: step) {
                for bound in missing {
                    newBounds.append(bound)
                    newCounts.append(0)
                }
            }
            newBounds.append(bounds[index])
            newCounts.append(counts[index])
        }
        bounds = newBounds
        counts = newCounts
    }

    /// The powers of two strictly between `low` and `high` on the grid of `step`, when both
    /// are powers of two of the same sign (nil otherwise, or when nothing is missing).
    private static func powersBetween(_ low: Double, _ high: Double, step: Int64) -> [Double]? {
        guard low != 0, high != 0, (low > 0) == (high > 0), low.significand == 1, high.significand == 1 else { return nil }
        let a = Int64(low.exponent)
        let b = Int64(high.exponent)
        let (from, to) = low > 0 ? (a, b) : (b, a)
        guard to - from > step, (to - from) % step == 0, (to - from) / step <= 4096 else { return nil }
        var out: [Double] = []
        var exponent = from + step
        while exponent < to {
            let magnitude = Double(sign: .plus, exponent: Int(exponent), significand: 1)
            out.append(low > 0 ? magnitude : -magnitude)
            exponent += step
        }
        return low > 0 ? out : out.reversed()
    }
}
