import Foundation
import OspreyModel
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

/// A selector's series as selected from storage, decoded on first use and then kept for the
/// rest of the query. A consumer that needs each series once (a range function over a range
/// selector) can instead stream them (``samples(of:into:)``) without ever holding them all.
/// Used by one query's evaluation: created, decoded and read on its thread (parallel workers
/// only read).
final class SelectedSeries: @unchecked Sendable {
    /// The stored series, sorted by labels.
    let stored: [any StoredSeries]
    /// Their labels, read once.
    let labels: [Labels]
    /// The length of the time window read (threads pay off for long windows over many series,
    /// as in range queries, not for the few samples per series of an instant query).
    let windowMs: Int64
    private var decoded: [SeriesData]?

    init(_ stored: [any StoredSeries], windowMs: Int64, streamable: Bool = true) {
        self.stored = stored
        self.labels = stored.map(\.labels)
        self.windowMs = windowMs
        self.streamed = !streamable
    }

    /// Set to forbid streaming (every consumer decodes), as the reference in tests.
    private var streamed: Bool


    /// Whether no consumer streamed or decoded the series yet.
    var canStream: Bool { decoded == nil && !streamed }

    /// Claims the one streaming pass: true for the first consumer that asks while the series
    /// are not decoded; later consumers decode them (``series(_:)``) and keep them, so a
    /// selector used many times is decoded at most twice.
    func claimStream() -> Bool {
        guard canStream else { return false }
        streamed = true
        return true
    }

    /// The series with their samples, decoded on the first call.
    func series(_ context: QueryContext) throws(PromQLError) -> [SeriesData] {
        if let decoded { return decoded }
        let out = try decode(context: context)
        decoded = out
        return out
    }

    /// Series `index`'s float samples without staleness markers, into `buffer` (replacing
    /// its contents, keeping its capacity): decoded from storage, or copied when decoded
    /// already. Returns the number of samples read from storage (none for a copy). Safe from
    /// parallel workers, each with its own buffer.
    func samples(of index: Int, into buffer: inout [Sample]) -> Int {
        buffer.removeAll(keepingCapacity: true)
        var loaded = 0
        if let decoded {
            buffer.append(contentsOf: decoded[index].samples)
        } else {
            stored[index].appendFloats(to: &buffer)
            loaded = buffer.count
        }
        let stale = StaleMarker.bitPattern
        if buffer.contains(where: { $0.value.bitPattern == stale }) {
            buffer.removeAll { $0.value.bitPattern == stale }
        }
        return loaded
    }

    /// Series of a selector are decoded by this many threads at once when there are enough of them.
    static let decodeWorkers = max(1, min(4, ProcessInfo.processInfo.activeProcessorCount))

    /// How many threads share work over `count` series: all of them from 64 series on, or
    /// from 8 when each series is much work (`heavy`, e.g. windows over many steps).
    static func workers(for count: Int, heavy: Bool = false) -> Int {
        count >= 64 || (heavy && count >= 8) ? decodeWorkers : 1
    }

    /// Runs `body` for every index of `0..<count` on ``workers(for:)`` threads, in contiguous
    /// blocks (one per worker, so no two threads write the same cache line), each worker with
    /// its own state, starting from `initial`; returns the workers' final states in block
    /// order. Stops early when the query is canceled or out of time (callers check after).
    static func parallelBlocks<State>(_ count: Int, workers: Int? = nil, context: QueryContext, initial: State, _ body: (inout State, Int) -> Void) -> [State] {
        let workers = Swift.min(Swift.max(1, count), workers ?? Self.workers(for: count))
        let blocks = (0..<workers).map { (count * $0 / workers)..<(count * ($0 + 1) / workers) }
        return parallelRanges(blocks, context: context, initial: initial, body)
    }

    /// ``parallelBlocks(_:workers:context:initial:_:)`` over given ranges, one worker each.
    static func parallelRanges<State>(_ ranges: [Range<Int>], context: QueryContext, initial: State, _ body: (inout State, Int) -> Void) -> [State] {
        var states = [State](repeating: initial, count: ranges.count)
        states.withUnsafeMutableBufferPointer { buffer in
            nonisolated(unsafe) let states = buffer
            nonisolated(unsafe) let body = body
            DispatchQueue.concurrentPerform(iterations: ranges.count) { worker in
                for index in ranges[worker] {
                    if index & 255 == 255, (try? context.check()) == nil { return }
                    body(&states[worker], index)
                }
            }
        }
        return states
    }

    private func decode(context: QueryContext) throws(PromQLError) -> [SeriesData] {
        // Each stored series is an immutable snapshot, so series decode independently.
        var decoded = [[Sample]](repeating: [], count: stored.count)
        decoded.withUnsafeMutableBufferPointer { buffer in
            nonisolated(unsafe) let out = buffer
            let workers = windowMs >= 3_600_000 ? Self.workers(for: stored.count) : 1
            // Chunks decode whole into a reused buffer; each series keeps an exact copy of
            // its samples in the window (a few for an instant query), not the chunk's worth.
            _ = Self.parallelBlocks(stored.count, workers: workers, context: context, initial: [Sample]()) { scratch, index in
                scratch.removeAll(keepingCapacity: true)
                stored[index].appendFloats(to: &scratch)
                out[index] = Array(scratch)
            }
        }
        try context.check()
        var out: [SeriesData] = []
        out.reserveCapacity(stored.count)
        for index in stored.indices {
            try context.loaded(decoded[index].count)
            out.append(SeriesData(labels: labels[index], samples: decoded[index]))
        }
        return out
    }
}

extension SelectedSeries {
    /// Selects (without decoding) the series matching `matchers` with samples in `[minMs, maxMs]`.
    static func select(_ queryable: any MetricQueryable, matchers: [LabelMatcher], minMs: Int64, maxMs: Int64, streamable: Bool = true) throws(PromQLError) -> SelectedSeries {
        do {
            let querier = try queryable.querier(minTimeMs: minMs, maxTimeMs: maxMs)
            defer { querier.close() }
            let set = try querier.select(sorted: true, hints: SelectHints(startMs: minMs, endMs: maxMs), matchers: matchers)
            var selected: [any StoredSeries] = []
            while let series = try set.next() { selected.append(series) }
            return SelectedSeries(selected, windowMs: maxMs - minMs, streamable: streamable)
        } catch {
            throw PromQLError(code: .storage, message: "\(error)")
        }
    }
}

extension SeriesData {
    /// Selects and decodes the series matching `matchers` with samples in `[minMs, maxMs]`.
    static func select(_ queryable: any MetricQueryable, matchers: [LabelMatcher], minMs: Int64, maxMs: Int64, context: QueryContext) throws(PromQLError) -> [SeriesData] {
        try SelectedSeries.select(queryable, matchers: matchers, minMs: minMs, maxMs: maxMs).series(context)
    }
}
