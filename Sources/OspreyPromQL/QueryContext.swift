import Dispatch
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
    /// What the query reported so far.
    package private(set) var report = QueryReport()

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
        report.totalQueryableSamples += count
        try hold(count)
    }

    /// Accounts for `count` more samples held in memory (results, subquery points).
    func hold(_ count: Int) throws(PromQLError) {
        currentSamples += count
        if currentSamples > limits.maxSamples {
            throw PromQLError(code: .execution, message: "query processing would load too many samples into memory in query execution")
        }
        report.peakSamples = max(report.peakSamples, currentSamples)
    }

    /// Releases `count` held samples.
    func release(_ count: Int) {
        currentSamples = max(0, currentSamples - count)
    }

    /// Adds a warning (`PromQL warning: … (line:col)`) for the expression at `position`.
    func warn(_ message: String, at position: PositionRange?) {
        let text = "PromQL warning: \(message)\(suffix(position))"
        if warningSet.insert(text).inserted { report.warnings.append(text) }
    }

    /// Adds an info (`PromQL info: … (line:col)`) for the expression at `position`.
    func info(_ message: String, at position: PositionRange?) {
        let text = "PromQL info: \(message)\(suffix(position))"
        if infoSet.insert(text).inserted { report.infos.append(text) }
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
