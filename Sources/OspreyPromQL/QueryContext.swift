import Dispatch
import OspreyModel
import Foundation
package import OspreyPromQLParser
import Synchronization

/// Limits of one query: how long it may run and how many samples it may hold.
package struct QueryLimits: Hashable, Sendable {
    /// Wall-clock budget in nanoseconds; nil for none.
    package var timeoutNanoseconds: UInt64?
    /// Most samples a query may hold in memory at once (Prometheus' `--query.max-samples`).
    package var maxSamples: Int

    /// Creates limits (Prometheus' defaults: 2 minutes, 50 million samples).
    package init(timeoutNanoseconds: UInt64? = 120_000_000_000, maxSamples: Int = 50_000_000) {
        self.timeoutNanoseconds = timeoutNanoseconds
        self.maxSamples = maxSamples
    }
}

/// What a query reports besides its value: annotations (Prometheus' `warnings` and `infos`)
/// and sample statistics.
package struct QueryReport: Hashable, Sendable {
    /// Warnings, in the order first raised, without duplicates.
    package var warnings: [String] = []
    /// Infos, in the order first raised, without duplicates.
    package var infos: [String] = []
    /// Samples read from storage (Prometheus' `totalQueryableSamples`).
    package var totalQueryableSamples = 0
    /// The most samples held at once (Prometheus' `peakSamples`).
    package var peakSamples = 0

    /// An empty report.
    package init() {}
}

/// The state of one running query, shared between the evaluator and whoever may cancel it.
///
/// The evaluator runs on one thread; only `cancel()` may be called from elsewhere, so the
/// cancellation flag is atomic and everything else is the evaluator's.
package final class QueryContext: @unchecked Sendable {
    /// The query text, for positions in annotations.
    package let query: String
    /// The limits.
    package let limits: QueryLimits
    private let deadline: UInt64?
    private let canceled = Atomic<Bool>(false)
    private var warningSet = Set<String>()
    private var infoSet = Set<String>()
    private var currentSamples = 0
    private var counts = QueryReport()
    /// Infos in the order raised; monotonicity notes are merged over steps and formatted last.
    private var infoEntries: [InfoEntry] = []
    private var monotonicity: [String: MonotonicityNote] = [:]

    private enum InfoEntry {
        case text(String)
        case monotonicity(String)
    }

    /// `histogram_quantile` had to fix non-monotonic buckets; merged over all steps as
    /// Prometheus merges `histogramQuantileForcedMonotonicityErr`.
    private struct MonotonicityNote {
        var message: String
        var position: String
        var minTimestampMs: Int64
        var maxTimestampMs: Int64
        var minBucket: Double
        var maxBucket: Double
        var maxDiff: Double
        var count: Int
    }

    /// What the query reported so far.
    package var report: QueryReport {
        var report = counts
        report.infos = infoEntries.map { entry in
            switch entry {
            case .text(let text): return text
            case .monotonicity(let key):
                guard let note = monotonicity[key] else { return "" }
                return "\(note.message), from buckets \(GoFloatFormat.g(note.minBucket)) to \(GoFloatFormat.g(note.maxBucket)), "
                    + "with a max diff of \(String(format: "%.2g", note.maxDiff)), over \(note.count) samples from "
                    + "\(Self.rfc3339(note.minTimestampMs)) to \(Self.rfc3339(note.maxTimestampMs))\(note.position)"
            }
        }
        return report
    }

    /// A context for `query` under `limits`; the timeout starts now.
    package init(query: String = "", limits: QueryLimits = QueryLimits()) {
        self.query = query
        self.limits = limits
        self.deadline = limits.timeoutNanoseconds.map { DispatchTime.now().uptimeNanoseconds &+ $0 }
    }

    /// Asks the evaluation to stop at its next check (the client went away).
    package func cancel() {
        canceled.store(true, ordering: .relaxed)
    }

    /// Throws when the query was canceled or ran out of time. Called between units of work.
    func check() throws(PromQLError) {
        if canceled.load(ordering: .relaxed) {
            throw PromQLError(code: .canceled, message: "query was canceled in expression evaluation")
        }
        if let deadline, DispatchTime.now().uptimeNanoseconds > deadline {
            throw PromQLError(code: .timeout, message: "query timed out in expression evaluation")
        }
    }

    /// Accounts for `count` samples read from storage and now held.
    func loaded(_ count: Int) throws(PromQLError) {
        counts.totalQueryableSamples += count
        try hold(count)
    }

    /// Counts `count` samples read from storage that are not held (streamed through).
    func countQueryable(_ count: Int) {
        counts.totalQueryableSamples += count
    }

    /// Accounts for `count` more samples held in memory (results, subquery points).
    func hold(_ count: Int) throws(PromQLError) {
        currentSamples += count
        if currentSamples > limits.maxSamples {
            throw PromQLError(code: .execution, message: "query processing would load too many samples into memory in query execution")
        }
        counts.peakSamples = max(counts.peakSamples, currentSamples)
    }

    /// Releases `count` held samples.
    func release(_ count: Int) {
        currentSamples = max(0, currentSamples - count)
    }

    /// Adds a warning (`PromQL warning: … (line:col)`) for the expression at `position`.
    func warn(_ message: String, at position: PositionRange?) {
        let text = "PromQL warning: \(message)\(suffix(position))"
        if warningSet.insert(text).inserted { counts.warnings.append(text) }
    }

    /// Adds an info (`PromQL info: … (line:col)`) for the expression at `position`.
    func info(_ message: String, at position: PositionRange?) {
        let text = "PromQL info: \(message)\(suffix(position))"
        if infoSet.insert(text).inserted { infoEntries.append(.text(text)) }
    }

    /// Notes that `histogram_quantile` forced the buckets of `metricName` to be monotonic.
    func histogramMonotonicityInfo(metricName: String, at position: PositionRange?, timestampMs: Int64, minBucket: Double, maxBucket: Double, maxDiff: Double) {
        var message = "PromQL info: input to histogram_quantile needed to be fixed for monotonicity "
            + "(see https://prometheus.io/docs/prometheus/latest/querying/functions/#histogram_quantile)"
        if !metricName.isEmpty { message += " for metric name \"\(metricName)\"" }
        let suffix = suffix(position)
        let key = message + suffix
        if var note = monotonicity[key] {
            note.minTimestampMs = min(note.minTimestampMs, timestampMs)
            note.maxTimestampMs = max(note.maxTimestampMs, timestampMs)
            note.minBucket = min(note.minBucket, minBucket)
            note.maxBucket = max(note.maxBucket, maxBucket)
            note.maxDiff = max(note.maxDiff, maxDiff)
            note.count += 1
            monotonicity[key] = note
        } else {
            monotonicity[key] = MonotonicityNote(
                message: message, position: suffix, minTimestampMs: timestampMs, maxTimestampMs: timestampMs,
                minBucket: minBucket, maxBucket: maxBucket, maxDiff: maxDiff, count: 1
            )
            infoEntries.append(.monotonicity(key))
        }
    }

    /// Go's `time.Unix(ms/1000, 0).UTC().Format(time.RFC3339)`.
    static func rfc3339(_ ms: Int64) -> String {
        let seconds = ms / 1000
        var days = seconds / 86_400
        var rest = seconds % 86_400
        if rest < 0 {
            rest += 86_400
            days -= 1
        }
        let (year, month, day) = DateFunctions.civil(days)
        func two(_ value: Int64) -> String { value < 10 ? "0\(value)" : "\(value)" }
        return "\(year)-\(two(month))-\(two(day))T\(two(rest / 3600)):\(two(rest % 3600 / 60)):\(two(rest % 60))Z"
    }

    /// ` (line:col)` as Prometheus prints a position: 1-based line, byte column after the last
    /// line break.
    private func suffix(_ position: PositionRange?) -> String {
        guard let position else { return "" }
        var line = 1
        var lastBreak = -1
        for (index, byte) in query.utf8.prefix(position.start).enumerated() where byte == UInt8(ascii: "\n") {
            line += 1
            lastBreak = index
        }
        return " (\(line):\(position.start - lastBreak))"
    }
}
