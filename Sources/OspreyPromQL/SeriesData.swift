import Foundation
package import OspreyModel
import OspreyStorage

/// The samples of one selected series, decoded once per query and shared by every step.
struct SeriesData {
    var labels: Labels
    var samples: [Sample]

    /// Index of the first sample with timestamp > `timestampMs`.
    func upperBound(_ timestampMs: Int64) -> Int {
        var low = 0
        var high = samples.count
        while low < high {
            let mid = (low + high) / 2
            if samples[mid].timestampMs <= timestampMs { low = mid + 1 } else { high = mid }
        }
        return low
    }

    /// The newest sample in `(timestampMs - lookbackMs, timestampMs]`, unless it is a staleness marker.
    func latest(at timestampMs: Int64, lookbackMs: Int64) -> Sample? {
        let index = upperBound(timestampMs) - 1
        guard index >= 0 else { return nil }
        let sample = samples[index]
        guard sample.timestampMs > timestampMs - lookbackMs, !StaleMarker.isStale(sample.value) else { return nil }
        return sample
    }

    /// Samples in `(startMs, endMs]`, staleness markers removed.
    func window(after startMs: Int64, through endMs: Int64) -> [Sample] {
        let end = upperBound(endMs)
        let start = upperBound(startMs)
        guard start < end else { return [] }
        return samples[start..<end].filter { !StaleMarker.isStale($0.value) }
    }
}

extension SeriesData {
    /// Selects and decodes the series matching `matchers` with samples in `[minMs, maxMs]`.
    static func select(_ queryable: any MetricQueryable, matchers: [LabelMatcher], minMs: Int64, maxMs: Int64, context: QueryContext) throws(PromQLError) -> [SeriesData] {
        let out: [SeriesData]
        do {
            out = try read(queryable, matchers: matchers, minMs: minMs, maxMs: maxMs, context: context)
        } catch let error as PromQLError {
            throw error
        } catch {
            throw PromQLError(code: .storage, message: "\(error)")
        }
        return out
    }

    /// Series of a selector are decoded by this many threads at once when there are enough of them.
    static let decodeWorkers = max(1, min(4, ProcessInfo.processInfo.activeProcessorCount))

    private static func read(_ queryable: any MetricQueryable, matchers: [LabelMatcher], minMs: Int64, maxMs: Int64, context: QueryContext) throws -> [SeriesData] {
        let querier = try queryable.querier(minTimeMs: minMs, maxTimeMs: maxMs)
        defer { querier.close() }
        let set = try querier.select(sorted: true, hints: SelectHints(startMs: minMs, endMs: maxMs), matchers: matchers)
        var selected: [any StoredSeries] = []
        while let series = try set.next() { selected.append(series) }
        // Each stored series is an immutable snapshot, so series decode independently; large
        // selections are split over the cores.
        // Threads pay off for long windows over many series (range queries), not for the
        // few samples per series of an instant query.
        let workers = selected.count >= 64 && maxMs - minMs >= 3_600_000 ? decodeWorkers : 1
        var decoded = [[Sample]](repeating: [], count: selected.count)
        decoded.withUnsafeMutableBufferPointer { buffer in
            nonisolated(unsafe) let out = buffer
            nonisolated(unsafe) let input = selected
            // Contiguous blocks per worker, so no two threads write the same cache line.
            DispatchQueue.concurrentPerform(iterations: workers) { worker in
                let start = input.count * worker / workers
                let end = input.count * (worker + 1) / workers
                for index in start..<end {
                    if index & 255 == 255, (try? context.check()) == nil { return }
                    let iterator = input[index].iterator(reusing: nil)
                    var samples: [Sample] = []
                    while iterator.next() == .float { samples.append(iterator.floatSample) }
                    out[index] = samples
                }
            }
        }
        try context.check()
        var out: [SeriesData] = []
        out.reserveCapacity(selected.count)
        for (index, series) in selected.enumerated() {
            try context.loaded(decoded[index].count)
            out.append(SeriesData(labels: series.labels, samples: decoded[index]))
        }
        return out
    }
}
