import Foundation
import OspreyModel
import OspreyPromQL
import OspreyPromQLParser

/// Runs one eval and compares its result with the expectation (FORMAT.md §4.3, §4.6).
enum EvalCheck {
    enum Result {
        case passed
        case failed(String)
        case skipped(String)
    }

    static func run(_ eval: PromQLTestScript.EvalCommand, engine: PromQLEngine) -> Result {
        let expr: Expr
        do {
            expr = try PromQLParser.parse(eval.expr)
        } catch {
            return .skipped("syntax not supported by the parser")
        }
        let outcome: Swift.Result<PromQLValue, PromQLError>
        let context = QueryContext(query: eval.expr, limits: QueryLimits(timeoutNanoseconds: nil, maxSamples: 50_000_000))
        do {
            switch eval.kind {
            case .instant(let at):
                outcome = .success(try engine.instantQuery(expr, atMs: eval.expectations.rangeVector?.endMs ?? at, context: context))
            case .range(let start, let end, let step):
                outcome = .success(.matrix(try engine.rangeQuery(expr, startMs: start, endMs: end, stepMs: step, context: context)))
            }
        } catch {
            outcome = .failure(error)
        }
        if case .failure(let error) = outcome, error.code == .unsupported { return .skipped("not evaluated yet: \(category(error.message))") }
        if let fail = eval.expectations.fail {
            guard case .failure(let error) = outcome else { return .failed("expected an error, got a result") }
            if let message = fail.message, message != error.message { return .failed("error \"\(error.message)\", expected \"\(message)\"") }
            if let regex = fail.regex, error.message.range(of: regex, options: .regularExpression) == nil {
                return .failed("error \"\(error.message)\" does not match /\(regex)/")
            }
            return .passed
        }
        switch outcome {
        case .failure(let error): return .failed("unexpected error: \(error.message)")
        case .success(let value):
            let result = compare(value, eval)
            guard case .passed = result else { return result }
            let report = context.report
            if let problem = checkAnnotations("warning", report.warnings, expected: eval.expectations.warnings, none: eval.expectations.noWarnings)
                ?? checkAnnotations("info", report.infos, expected: eval.expectations.infos, none: eval.expectations.noInfos)
            {
                return .failed(problem)
            }
            return .passed
        }
    }

    /// FORMAT.md §5.1: an instant eval run again as a range query from t−1m to t+1m at 1m
    /// steps; the points at t must meet the same expectations (annotations not checked). nil
    /// when the eval does not qualify.
    static func rangeModeCheck(_ eval: PromQLTestScript.EvalCommand, engine: PromQLEngine) -> Result? {
        guard case .instant(let at) = eval.kind, eval.expectations.fail == nil, eval.expectations.rangeVector == nil,
              eval.expectations.string == nil, !eval.expectations.ordered,
              !["start()", "end()", "range()", "step()"].contains(where: { eval.expr.contains($0) }),
              let expr = try? PromQLParser.parse(eval.expr), expr.type == .scalar || expr.type == .vector
        else { return nil }
        let matrix: [SeriesPoints]
        do {
            matrix = try engine.rangeQuery(expr, startMs: at - 60_000, endMs: at + 60_000, stepMs: 60_000)
        } catch {
            if error.code == .unsupported { return nil }
            return .failed("range mode: unexpected error: \(error.message)")
        }
        var elements: [VectorElement] = []
        for series in matrix {
            if let point = series.points.first(where: { $0.timestampMs == at }) {
                elements.append(VectorElement(labels: series.labels, timestampMs: at, value: point.value))
            }
        }
        let value: PromQLValue
        if eval.scalar != nil {
            guard elements.count == 1 else { return .failed("range mode: expected one series for a scalar, got \(elements.count)") }
            value = .scalar(timestampMs: at, value: elements[0].value)
        } else {
            value = .vector(elements)
        }
        if case .failed(let why) = compare(value, eval) { return .failed("range mode: \(why)") }
        return .passed
    }

    /// FORMAT.md §4.4: with `expect warn` lines every line matches some warning and every
    /// warning some line; with `no_warn` there is none. The same for infos.
    private static func checkAnnotations(_ kind: String, _ actual: [String], expected: [String?], none: Bool) -> String? {
        if none && !actual.isEmpty { return "expected no \(kind), got \(actual)" }
        guard !expected.isEmpty else { return nil }
        if actual.isEmpty { return "expected a \(kind), got none" }
        func matches(_ pattern: String?, _ text: String) -> Bool {
            guard let pattern else { return true }
            if pattern.hasPrefix("regex:") {
                return text.range(of: String(pattern.dropFirst(6)), options: .regularExpression) != nil
            }
            return pattern == text
        }
        for pattern in expected where !actual.contains(where: { matches(pattern, $0) }) {
            return "expected \(kind) \(pattern ?? "any") not among \(actual)"
        }
        for text in actual where !expected.contains(where: { matches($0, text) }) {
            return "unexpected \(kind) \(text)"
        }
        return nil
    }

    private static func category(_ message: String) -> String {
        // "function rate() is not evaluated …" → "function rate()"
        message.components(separatedBy: " is not evaluated").first ?? message
    }

    private static func compare(_ value: PromQLValue, _ eval: PromQLTestScript.EvalCommand) -> Result {
        if let expected = eval.expectations.string {
            guard case .string(_, let got) = value, got == expected else { return .failed("expected string \(expected), got \(value)") }
            return .passed
        }
        if let scalar = eval.scalar {
            guard case .scalar(_, let got) = value, floatsEqual(scalar, got) else { return .failed("expected scalar \(scalar), got \(value)") }
            return .passed
        }
        switch value {
        case .vector(let elements):
            var expected: [Labels: Double] = [:]
            for (labels, values) in eval.series {
                guard values.count == 1, case .float(let number) = values[0] else { return .failed("bad expected line for an instant vector") }
                expected[labels] = number
            }
            guard elements.count == expected.count else { return .failed("got \(elements.count) series, expected \(expected.count): \(elements.map(\.labels.description))") }
            for element in elements {
                guard let want = expected[element.labels] else { return .failed("unexpected series \(element.labels)") }
                guard floatsEqual(want, element.value) else { return .failed("\(element.labels): got \(element.value), expected \(want)") }
            }
            if eval.expectations.ordered {
                let order = eval.series.map(\.labels)
                guard elements.map(\.labels) == order else { return .failed("wrong order") }
            }
            return .passed
        case .matrix(let series):
            let (start, step): (Int64, Int64)
            switch eval.kind {
            case .range(let s, _, let st): (start, step) = (s, st)
            case .instant: (start, step) = (eval.expectations.rangeVector?.startMs ?? 0, eval.expectations.rangeVector?.stepMs ?? 1)
            }
            var expected: [Labels: [Sample]] = [:]
            for (labels, values) in eval.series {
                var points: [Sample] = []
                for (index, value) in values.enumerated() {
                    if case .float(let number) = value { points.append(Sample(timestampMs: start + Int64(index) * step, value: number)) }
                }
                expected[labels] = points
            }
            guard series.count == expected.count else { return .failed("got \(series.count) series, expected \(expected.count): \(series.map(\.labels.description))") }
            for got in series {
                guard let want = expected[got.labels] else { return .failed("unexpected series \(got.labels)") }
                guard want.count == got.points.count,
                      zip(want, got.points).allSatisfy({ $0.timestampMs == $1.timestampMs && floatsEqual($0.value, $1.value) })
                else { return .failed("\(got.labels): got \(got.points), expected \(want)") }
            }
            return .passed
        case .scalar, .string:
            return eval.series.isEmpty ? .failed("expected an empty vector, got \(value)") : .failed("expected series, got \(value)")
        }
    }

    /// FORMAT.md §4.6.
    static func floatsEqual(_ expected: Double, _ actual: Double) -> Bool {
        if StaleMarker.isStale(expected) || StaleMarker.isStale(actual) { return StaleMarker.isStale(expected) && StaleMarker.isStale(actual) }
        if expected.isNaN || actual.isNaN { return expected.isNaN && actual.isNaN }
        if expected == actual { return true }
        let smallestNormal = 2.2250738585072014e-308
        if expected != 0 && actual != 0 && abs(expected) + abs(actual) >= smallestNormal {
            return abs(expected - actual) / min(abs(expected) + abs(actual), Double.greatestFiniteMagnitude) < 1e-6
        }
        return abs(expected - actual) < 1e-6 * smallestNormal
    }
}
