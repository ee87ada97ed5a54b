import Foundation
import OspreyModel
import OspreyPromQLParser

/// `histogram_quantile`, `histogram_fraction` and `histogram_quantiles` over classic
/// histograms (`_bucket` series with an `le` label), as Prometheus' `quantile.go`.
enum HistogramFunctions {
    struct Bucket {
        var upperBound: Double
        var count: Double
    }

    /// One classic histogram of the input: its labels without `le`, and its buckets.
    struct Group {
        var labels: Labels
        var dropsName: Bool
        var buckets: [Bucket]
    }

    /// Groups bucket series by their labels without `le`; series whose `le` is missing or not
    /// a float are reported through `badBucket(metricName, le)` and skipped.
    static func groups(_ elements: [VectorElement], badBucket: (String, String) -> Void) -> [Group] {
        var index: [Labels: Int] = [:]
        var out: [Group] = []
        for element in elements {
            let le = element.labels["le"] ?? ""
            guard let upperBound = parseFloat(le) else {
                badBucket(element.labels.metricName ?? "", le)
                continue
            }
            let key = Labels(sortedUnchecked: element.labels.filter { $0.name != "le" })
            if let position = index[key] {
                out[position].buckets.append(Bucket(upperBound: upperBound, count: element.value))
                out[position].dropsName = out[position].dropsName || element.dropsName
            } else {
                index[key] = out.count
                out.append(Group(labels: key, dropsName: element.dropsName, buckets: [Bucket(upperBound: upperBound, count: element.value)]))
            }
        }
        return out
    }

    /// Go's `strconv.ParseFloat` for bucket bounds: decimal, exponent, `Inf`/`+Inf`/`-Inf`,
    /// `NaN`, any case.
    static func parseFloat(_ text: String) -> Double? {
        guard !text.isEmpty else { return nil }
        switch text.lowercased() {
        case "inf", "+inf", "infinity", "+infinity": return .infinity
        case "-inf", "-infinity": return -.infinity
        case "nan": return .nan
        default: break
        }
        guard text.utf8.allSatisfy({ ($0 >= 0x30 && $0 <= 0x39) || $0 == 0x2E || $0 == 0x2B || $0 == 0x2D || $0 == 0x65 || $0 == 0x45 || $0 == 0x5F || $0 == 0x78 || $0 == 0x58 || $0 == 0x70 || $0 == 0x50 || ($0 >= 0x61 && $0 <= 0x66) || ($0 >= 0x41 && $0 <= 0x46) }) else {
            return nil
        }
        return Double(text)
    }

    /// The outcome of ``bucketQuantile``: the value and whether the buckets had to be made
    /// monotonic (with the affected bounds and the largest correction).
    struct QuantileResult {
        var value: Double
        var forcedMonotonic = false
        var minBucket = Double.infinity
        var maxBucket = -Double.infinity
        var maxDiff = 0.0
    }

    /// Prometheus' `BucketQuantile`.
    static func bucketQuantile(_ q: Double, _ input: [Bucket]) -> QuantileResult {
        if q.isNaN { return QuantileResult(value: .nan) }
        if q < 0 { return QuantileResult(value: -.infinity) }
        if q > 1 { return QuantileResult(value: .infinity) }
        var buckets = sortedCoalesced(input)
        guard let last = buckets.last, last.upperBound == .infinity else { return QuantileResult(value: .nan) }
        var result = QuantileResult(value: .nan)
        ensureMonotonic(&buckets, &result)
        guard buckets.count >= 2 else { return result }
        let observations = buckets[buckets.count - 1].count
        guard observations != 0 else { return result }
        var rank = q * observations
        // The first bucket (of all but the last) whose count reaches the rank.
        var b = 0
        while b < buckets.count - 1, !(buckets[b].count >= rank) { b += 1 }
        if b == buckets.count - 1 {
            result.value = buckets[buckets.count - 2].upperBound
        } else if b == 0 && buckets[0].upperBound <= 0 {
            result.value = buckets[0].upperBound
        } else {
            var bucketStart = 0.0
            let bucketEnd = buckets[b].upperBound
            var count = buckets[b].count
            if b > 0 {
                bucketStart = buckets[b - 1].upperBound
                count -= buckets[b - 1].count
                rank -= buckets[b - 1].count
            }
            result.value = bucketStart + (bucketEnd - bucketStart) * (rank / count)
        }
        return result
    }

    /// Prometheus' `BucketFraction`: the estimated fraction of observations in [lower, upper].
    static func bucketFraction(_ lower: Double, _ upper: Double, _ input: [Bucket]) -> Double {
        let buckets = sortedCoalesced(input)
        guard let last = buckets.last, last.upperBound == .infinity else { return .nan }
        let count = last.count
        if count == 0 || lower.isNaN || upper.isNaN { return .nan }
        if lower >= upper { return 0 }
        var rank = 0.0
        var lowerRank = 0.0
        var upperRank = 0.0
        var lowerSet = false
        var upperSet = false
        var lowerBound = buckets[0].upperBound <= 0 ? -Double.infinity : 0
        for (i, bucket) in buckets.enumerated() {
            if i > 0 { lowerBound = buckets[i - 1].upperBound }
            let upperBound = bucket.upperBound
            func interpolate(_ v: Double) -> Double {
                if lowerBound == -.infinity { return bucket.count }
                return rank + (bucket.count - rank) * (v - lowerBound) / (upperBound - lowerBound)
            }
            if !lowerSet && lowerBound >= lower {
                lowerRank = rank
                lowerSet = true
            }
            if !upperSet && lowerBound >= upper {
                upperRank = rank
                upperSet = true
            }
            if lowerSet && upperSet { break }
            if !lowerSet && lowerBound < lower && upperBound > lower {
                lowerRank = interpolate(lower)
                lowerSet = true
            }
            if !upperSet && lowerBound < upper && upperBound > upper {
                upperRank = interpolate(upper)
                upperSet = true
            }
            if lowerSet && upperSet { break }
            rank = bucket.count
        }
        if !lowerSet || lowerRank > count { lowerRank = count }
        if !upperSet || upperRank > count { upperRank = count }
        return (upperRank - lowerRank) / count
    }

    /// Buckets sorted by upper bound, buckets with the same bound added together.
    private static func sortedCoalesced(_ input: [Bucket]) -> [Bucket] {
        let sorted = input.sorted { $0.upperBound < $1.upperBound }
        var out: [Bucket] = []
        out.reserveCapacity(sorted.count)
        for bucket in sorted {
            if let last = out.last, last.upperBound == bucket.upperBound {
                out[out.count - 1].count += bucket.count
            } else {
                out.append(bucket)
            }
        }
        return out
    }

    /// Prometheus' `ensureMonotonicAndIgnoreSmallDeltas` with tolerance 1e-12.
    private static func ensureMonotonic(_ buckets: inout [Bucket], _ result: inout QuantileResult) {
        guard var previous = buckets.first?.count else { return }
        for i in 1..<max(1, buckets.count) {
            let current = buckets[i].count
            if current == previous { continue }
            if almostEqual(previous, current, tolerance: 1e-12) {
                buckets[i].count = previous
                continue
            }
            if current < previous {
                buckets[i].count = previous
                result.forcedMonotonic = true
                result.minBucket = min(result.minBucket, buckets[i].upperBound)
                result.maxBucket = max(result.maxBucket, buckets[i].upperBound)
                result.maxDiff = max(result.maxDiff, previous - current)
                continue
            }
            previous = current
        }
    }

    /// Prometheus' `almost.Equal`.
    static func almostEqual(_ a: Double, _ b: Double, tolerance: Double) -> Bool {
        if a.isNaN && b.isNaN { return true }
        if a == b { return true }
        let minNormal = Double.leastNormalMagnitude
        let absSum = abs(a) + abs(b)
        let diff = abs(a - b)
        if a == 0 || b == 0 || absSum < minNormal { return diff < tolerance * minNormal }
        return diff / min(absSum, .greatestFiniteMagnitude) < tolerance
    }
}

/// Prometheus' `labels.FormatOpenMetricsFloat`: Go's shortest `g` form with `.0` added to
/// integers (`1` → `1.0`), and `NaN`/`+Inf`/`-Inf`.
enum OpenMetricsFloat {
    static func format(_ value: Double) -> String {
        if value.isNaN { return "NaN" }
        if value == .infinity { return "+Inf" }
        if value == -.infinity { return "-Inf" }
        let text = GoFloatFormat.g(value)
        return text.contains("e") || text.contains(".") ? text : text + ".0"
    }
}
