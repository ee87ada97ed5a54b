import Foundation
package import OspreyModel
import OspreyPromQL
import OspreyPromQLParser
import OspreyStorage

/// Runs promqltest scripts (FORMAT.md) against a store through ``PromQLEngine``.
package struct PromQLTestRunner {
    /// What a run found.
    package struct Outcome: Sendable {
        /// Evals that passed.
        package var passed = 0
        /// Failed evals: `file:line: why`.
        package var failures: [String] = []
        /// Skipped evals by reason.
        package var skipped: [String: Int] = [:]
        /// Instant evals that also passed as range queries (FORMAT.md §5.1).
        package var rangeModePassed = 0

        /// An empty outcome.
        package init() {}

        /// Adds another file's outcome.
        package mutating func merge(_ other: Outcome) {
            passed += other.passed
            failures += other.failures
            for (reason, count) in other.skipped { skipped[reason, default: 0] += count }
            rangeModePassed += other.rangeModePassed
        }

        /// `N passed, N failed, N skipped`.
        package var summary: String {
            "\(passed) passed, \(failures.count) failed, \(skipped.values.reduce(0, +)) skipped; range mode (FORMAT.md 5.1): \(rangeModePassed) passed"
        }
    }

    /// Runs `script` (named `file` in messages), with a fresh store from `makeStore` at the
    /// start and after every `clear`.
    package static func run(_ script: PromQLTestScript, file: String, makeStore: () -> any ConformanceStore) async -> Outcome {
        var outcome = Outcome()
        var store = makeStore()
        var histogramMetrics = Set<String>()
        var startTimestampMetrics = Set<String>()
        for command in script.commands {
            switch command {
            case .clear:
                store = makeStore()
                histogramMetrics.removeAll()
                startTimestampMetrics.removeAll()
            case .load(let load):
                do {
                    try await apply(load, to: store, histogramMetrics: &histogramMetrics)
                    startTimestampMetrics.formUnion(load.startTimestampMetrics)
                } catch {
                    outcome.failures.append("\(file):\(load.line): load failed: \(error)")
                }
            case .eval(let eval):
                if startTimestampMetrics.contains(where: { eval.expr.contains($0) }) {
                    outcome.skipped["start timestamps", default: 0] += 1
                    continue
                }
                if let reason = skipReason(eval, histogramMetrics) {
                    outcome.skipped[reason, default: 0] += 1
                    continue
                }
                switch EvalCheck.run(eval, engine: PromQLEngine(queryable: store)) {
                case .passed:
                    outcome.passed += 1
                    switch EvalCheck.rangeModeCheck(eval, engine: PromQLEngine(queryable: store)) {
                    case .passed?: outcome.rangeModePassed += 1
                    case .failed(let why)?: outcome.failures.append("\(file):\(eval.line): \(eval.expr): \(why)")
                    default: break
                    }
                case .skipped(let reason): outcome.skipped[reason, default: 0] += 1
                case .failed(let why): outcome.failures.append("\(file):\(eval.line): \(eval.expr): \(why)")
                }
            }
        }
        return outcome
    }

    private static func apply(_ load: PromQLTestScript.LoadCommand, to store: any ConformanceStore, histogramMetrics: inout Set<String>) async throws {
        let appender = store.appender()
        if load.withNHCB {
            // `load_with_nhcb` also creates a native histogram with custom buckets under the
            // classic histogram's base name.
            for (labels, _) in load.series {
                guard let name = labels.metricName else { continue }
                for suffix in ["_bucket", "_sum", "_count"] where name.hasSuffix(suffix) {
                    histogramMetrics.insert(String(name.dropLast(suffix.count)))
                }
            }
        }
        for (labels, values) in load.series {
            for (position, value) in values.enumerated() {
                let timestamp = Int64(position) * load.intervalMs
                switch value {
                case .float(let float): _ = try appender.append(nil, labels: labels, timestampMs: timestamp, value: float)
                case .gap: continue
                case .histogram: histogramMetrics.insert(labels.metricName ?? "")
                }
            }
        }
        _ = try await appender.commit()
    }

    /// Whether `expr` mentions `name` as a whole identifier (or inside quotes), not as part of
    /// a longer name.
    static func mentions(_ expr: String, _ name: String) -> Bool {
        func isNameByte(_ byte: UInt8) -> Bool {
            (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A) || byte == 0x5F || byte == 0x3A
        }
        let text = Array(expr.utf8)
        let needle = Array(name.utf8)
        guard !needle.isEmpty, needle.count <= text.count else { return false }
        for start in 0...(text.count - needle.count) where text[start..<(start + needle.count)].elementsEqual(needle) {
            let before = start == 0 ? nil : text[start - 1]
            let afterIndex = start + needle.count
            let after = afterIndex < text.count ? text[afterIndex] : nil
            if !(before.map(isNameByte) ?? false) && !(after.map(isNameByte) ?? false) { return true }
        }
        return false
    }

    private static func skipReason(_ eval: PromQLTestScript.EvalCommand, _ histogramMetrics: Set<String>) -> String? {
        if eval.series.contains(where: { $0.values.contains { if case .histogram = $0 { return true } else { return false } } }) {
            return "native histograms"
        }
        // FORMAT.md §7's static rule: native-histogram functions, or a metric that holds histograms.
        let histogramFunctions = ["histogram_count", "histogram_sum", "histogram_avg", "histogram_stddev", "histogram_stdvar"]
        if histogramFunctions.contains(where: { eval.expr.contains($0) })
            || histogramMetrics.contains(where: { !$0.isEmpty && mentions(eval.expr, $0) })
            || (!histogramMetrics.isEmpty && eval.expr.contains("{"))
        {
            return "native histograms"
        }
        return nil
    }
}
