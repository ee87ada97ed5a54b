package import OspreyModel

/// The deleted time ranges of one series (Prometheus' `tombstones.Intervals`): inclusive,
/// sorted, disjoint and not adjacent.
package struct DeletedIntervals: Hashable, Sendable {
    /// The ranges, oldest first.
    package private(set) var ranges: [ClosedRange<Int64>] = []

    /// No deleted range.
    package init() {}

    /// The union of `ranges`.
    package init(_ ranges: [ClosedRange<Int64>]) {
        for range in ranges { add(range) }
    }

    /// Whether nothing is deleted.
    package var isEmpty: Bool { ranges.isEmpty }

    /// Adds `range`, merging it with the ranges it overlaps or touches.
    package mutating func add(_ range: ClosedRange<Int64>) {
        var low = range.lowerBound
        var high = range.upperBound
        var kept: [ClosedRange<Int64>] = []
        kept.reserveCapacity(ranges.count + 1)
        var inserted = false
        for existing in ranges {
            if existing.upperBound < low && existing.upperBound &+ 1 < low {
                kept.append(existing)
            } else if existing.lowerBound > high && existing.lowerBound &- 1 > high {
                if !inserted {
                    kept.append(low...high)
                    inserted = true
                }
                kept.append(existing)
            } else {
                low = min(low, existing.lowerBound)
                high = max(high, existing.upperBound)
            }
        }
        if !inserted { kept.append(low...high) }
        ranges = kept
    }

    /// Adds every range of `other`.
    package mutating func formUnion(_ other: DeletedIntervals) {
        for range in other.ranges { add(range) }
    }

    /// Drops what lies before `timestampMs` (those samples are gone anyway).
    package mutating func removeAll(before timestampMs: Int64) {
        ranges = ranges.compactMap { range in
            if range.upperBound < timestampMs { return nil }
            return max(range.lowerBound, timestampMs)...range.upperBound
        }
    }

    /// Whether a sample at `timestampMs` is deleted.
    package func contains(_ timestampMs: Int64) -> Bool {
        var low = 0
        var high = ranges.count
        while low < high {
            let mid = (low + high) / 2
            if ranges[mid].upperBound < timestampMs { low = mid + 1 } else { high = mid }
        }
        return low < ranges.count && ranges[low].lowerBound <= timestampMs
    }

    /// Whether every time in `[minTimeMs, maxTimeMs]` is deleted.
    package func covers(_ minTimeMs: Int64, _ maxTimeMs: Int64) -> Bool {
        ranges.contains { $0.lowerBound <= minTimeMs && $0.upperBound >= maxTimeMs }
    }

    /// Whether some range overlaps `[minTimeMs, maxTimeMs]`.
    package func overlaps(_ minTimeMs: Int64, _ maxTimeMs: Int64) -> Bool {
        ranges.contains { $0.lowerBound <= maxTimeMs && $0.upperBound >= minTimeMs }
    }

    /// Removes the deleted samples from `samples[start...]` (sorted by time), in place.
    package func remove(from samples: inout [Sample], startingAt start: Int = 0) {
        guard !ranges.isEmpty, start < samples.count else { return }
        var write = start
        var rangeIndex = 0
        for read in start..<samples.count {
            let time = samples[read].timestampMs
            while rangeIndex < ranges.count && ranges[rangeIndex].upperBound < time { rangeIndex += 1 }
            if rangeIndex < ranges.count && ranges[rangeIndex].lowerBound <= time { continue }
            samples[write] = samples[read]
            write += 1
        }
        samples.removeSubrange(write...)
    }
}

/// Iterates a series' samples, skipping those in deleted ranges.
package final class DeletionSkippingIterator: SampleIterator {
    private let base: any SampleIterator
    private let deleted: DeletedIntervals

    /// Wraps `base`.
    package init(_ base: any SampleIterator, deleted: DeletedIntervals) {
        self.base = base
        self.deleted = deleted
    }

    package var floatSample: Sample { base.floatSample }
    package var histogramSample: (timestampMs: Int64, histogram: FloatHistogram) { base.histogramSample }
    package var timestampMs: Int64 { base.timestampMs }

    /// Moves past deleted samples from the current one.
    private func skipDeleted(_ kind: SampleValueType) -> SampleValueType {
        var kind = kind
        while kind != .none && deleted.contains(base.timestampMs) { kind = base.next() }
        return kind
    }

    package func next() -> SampleValueType {
        skipDeleted(base.next())
    }

    package func seek(to timestampMs: Int64) -> SampleValueType {
        skipDeleted(base.seek(to: timestampMs))
    }

    package func appendFloats(to buffer: inout [Sample]) -> SampleValueType {
        while true {
            let start = buffer.count
            let kind = base.appendFloats(to: &buffer)
            deleted.remove(from: &buffer, startingAt: start)
            guard kind == .histogram, deleted.contains(base.timestampMs) else { return kind }
            // A deleted histogram sample stopped it: skip past it and go on.
            switch skipDeleted(base.next()) {
            case .none: return .none
            case .histogram: return .histogram
            case .float: buffer.append(base.floatSample)
            }
        }
    }
}
