/// Turns an OTLP exponential histogram into a classic one with power-of-two bounds, because
/// Osprey's engine does not store native histograms yet.
///
/// OTLP bucket `i` at scale `s` holds values in (2^(i·2^-s), 2^((i+1)·2^-s)]. At scale > 0 its
/// buckets are merged into scale 0, bucket `i >> s`, with upper bound 2^((i >> s) + 1); at scale
/// ≤ 0 each bucket keeps its own upper bound 2^((i+1)·2^-s). Negative buckets mirror this
/// (upper bound −2^(i >> s)), and the zero bucket's upper bound is the zero threshold (0 when
/// unset). Bounds stay the same when a client changes scale, so the `_bucket` series do not churn.
enum OTLPExponentialConversion {
    static func classic(
        scale: Int, positive: (offset: Int64, counts: [Double]), negative: (offset: Int64, counts: [Double]),
        zeroCount: Double, zeroThreshold: Double, sum: Double?, count: Double
    ) -> OTLPBuckets {
        // Empty buckets at either end say nothing (SDKs send them); leaving them out keeps
        // series that would only ever hold zeros (or repeat their neighbour) from being created.
        let positive = trimmed(positive)
        let negative = trimmed(negative)
        var byBound: [(bound: Double, count: Double)] = []
        func add(_ bound: Double, _ count: Double) {
            if let last = byBound.last, last.bound == bound {
                byBound[byBound.count - 1].count += count
            } else {
                byBound.append((bound, count))
            }
        }
        // Negative buckets, most negative first.
        var negatives: [(bound: Double, count: Double)] = []
        for (position, bucketCount) in negative.counts.enumerated() {
            let index = negative.offset + Int64(position)
            let exponent = scale > 0 ? index >> Int64(scale) : index << Int64(-scale)
            negatives.append((max(-power(exponent), -.greatestFiniteMagnitude), bucketCount))
        }
        for entry in negatives.sorted(by: { $0.bound < $1.bound }) { add(entry.bound, entry.count) }
        if zeroCount > 0 || !negative.counts.isEmpty {
            add(max(0, zeroThreshold.isFinite ? zeroThreshold : 0), zeroCount)
        }
        for (position, bucketCount) in positive.counts.enumerated() {
            let index = positive.offset + Int64(position)
            let exponent = scale > 0 ? (index >> Int64(scale)) + 1 : (index + 1) << Int64(-scale)
            let bound = power(exponent)
            // Values beyond the double range are in the +Inf bucket, which is the total count.
            if bound == .infinity { continue }
            if let last = byBound.last, bound < last.bound {
                // A positive bound at or under the zero threshold: count it with the zero bucket.
                byBound[byBound.count - 1].count += bucketCount
            } else {
                add(bound, bucketCount)
            }
        }
        let step: Int64 = scale >= 0 ? 1 : Int64(1) << Int64(min(-scale, 62))
        return OTLPBuckets(bounds: byBound.map(\.bound), counts: byBound.map(\.count), sum: sum, count: count, exponentStep: step)
    }

    /// The buckets without empty ones at either end (the offset moved accordingly).
    private static func trimmed(_ buckets: (offset: Int64, counts: [Double])) -> (offset: Int64, counts: [Double]) {
        guard let first = buckets.counts.firstIndex(where: { $0 != 0 }), let last = buckets.counts.lastIndex(where: { $0 != 0 }) else {
            return (0, [])
        }
        return (buckets.offset + Int64(first), Array(buckets.counts[first...last]))
    }

    /// 2^exponent, saturating to 0 and infinity beyond the double range.
    private static func power(_ exponent: Int64) -> Double {
        if exponent > 1023 { return .infinity }
        if exponent < -1074 { return 0 }
        return Double(sign: .plus, exponent: Int(exponent), significand: 1)
    }
}
