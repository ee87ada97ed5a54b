import Foundation
import OspreyModel
import OspreyPromQLParser
import OspreyStorage

/// One query's evaluation: prefetched selector data and per-step evaluation.
struct Evaluator: Sendable {
    let engine: PromQLEngine
    let context: QueryContext
    let startMs: Int64
    let endMs: Int64
    /// The query's step (0 for an instant query), for `step()` in durations.
    let stepMs: Int64
    /// Whether this is a range query (more than one step).
    let isRange: Bool
    /// Every selector's series, selected up front, decoded when first needed.
    private(set) var data: [VectorSelector: SelectedSeries] = [:]

    init(engine: PromQLEngine, context: QueryContext, expr: Expr, startMs: Int64, endMs: Int64, stepMs: Int64) throws(PromQLError) {
        self.engine = engine
        self.context = context
        self.startMs = startMs
        self.endMs = endMs
        self.stepMs = startMs == endMs ? 0 : stepMs
        self.isRange = startMs != endMs
        var needed: [VectorSelector: (low: Int64, high: Int64)] = [:]
        try collect(expr, low: startMs, high: endMs, into: &needed)
        for (selector, window) in needed {
            try context.check()
            data[selector] = try SelectedSeries.select(engine.queryable, matchers: selector.matchers, minMs: window.low, maxMs: window.high, streamable: engine.streamsSeries)
        }
    }

    /// A rough upper bound of the samples an evaluation over `steps` steps touches: every
    /// selected series' window at one sample per 10 s, plus a point per series and step.
    func estimatedSamples(steps: Int) -> Int {
        var total = 0
        for selected in data.values {
            let perSeries = Int(min(selected.windowMs / 10_000, 1 << 20)) + 1 + steps
            total = total.addingReportingOverflow(selected.stored.count.multipliedReportingOverflow(by: perSeries).partialValue).partialValue
        }
        return total
    }

    /// A selector's series with their samples (decoded on first use).
    func series(_ selector: VectorSelector) throws(PromQLError) -> [SeriesData] {
        try data[selector]?.series(context) ?? []
    }

    /// The evaluation window `[low, high]` as seen through `@` and `offset`.
    private func shifted(_ at: AtModifier?, _ offset: DurationExpr?, low: Int64, high: Int64) throws(PromQLError) -> (Int64, Int64) {
        let offsetMs = try offset.map(milliseconds) ?? 0
        switch at {
        case .timestamp(let ms)?: return (ms - offsetMs, ms - offsetMs)
        case .start?: return (startMs - offsetMs, startMs - offsetMs)
        case .end?: return (endMs - offsetMs, endMs - offsetMs)
        case nil: return (low - offsetMs, high - offsetMs)
        }
    }

    /// Finds every selector and the time window it must be read over (one read per selector).
    private func collect(_ expr: Expr, low: Int64, high: Int64, into needed: inout [VectorSelector: (low: Int64, high: Int64)]) throws(PromQLError) {
        func need(_ selector: VectorSelector, backMs: Int64) throws(PromQLError) {
            let (from, to) = try shifted(selector.at, selector.offset, low: low, high: high)
            let window = (low: from - backMs, high: to)
            if let existing = needed[selector] {
                needed[selector] = (min(existing.low, window.low), max(existing.high, window.high))
            } else {
                needed[selector] = window
            }
        }
        switch expr {
        case .vectorSelector(let selector):
            try need(selector, backMs: engine.lookbackDeltaMs)
        case .matrixSelector(let matrix):
            try need(matrix.selector, backMs: try milliseconds(matrix.range))
        case .subquery(let subquery):
            let (from, to) = try shifted(subquery.at, subquery.offset, low: low, high: high)
            try collect(subquery.expr, low: from - (try milliseconds(subquery.range)), high: to, into: &needed)
        case .paren(let inner, _), .unaryMinus(let inner, _):
            try collect(inner, low: low, high: high, into: &needed)
        case .number, .string:
            return
        case .call(let call) where Self.supports(call):
            // info()'s second argument only names labels; its series are read at evaluation.
            let arguments = call.function.name == "info" ? Array(call.args.prefix(1)) : call.args
            for argument in arguments { try collect(argument, low: low, high: high, into: &needed) }
        case .aggregate(let aggregate):
            if let param = aggregate.param { try collect(param, low: low, high: high, into: &needed) }
            try collect(aggregate.expr, low: low, high: high, into: &needed)
        case .binary(let binary):
            try collect(binary.lhs, low: low, high: high, into: &needed)
            try collect(binary.rhs, low: low, high: high, into: &needed)
        default:
            throw PromQLError(code: .unsupported, message: "\(kind(expr)) is not evaluated by this version of Osprey yet")
        }
    }

    private static func supports(_ call: FunctionCall) -> Bool {
        let name = call.function.name
        if RangeFunctions.names.contains(name) || ["absent_over_time", "quantile_over_time", "predict_linear", "mad_over_time", "double_exponential_smoothing"].contains(name) {
            return call.args.contains {
                switch $0.unwrappingParens {
                case .matrixSelector, .subquery: return true
                default: return false
                }
            }
        }
        return InstantFunctions.math[name] != nil || DateFunctions.names.contains(name)
            || [
                "vector", "scalar", "time", "pi", "timestamp", "label_replace", "label_join", "clamp", "clamp_min", "clamp_max", "round",
                "sort", "sort_desc", "sort_by_label", "sort_by_label_desc", "absent", "histogram_quantile", "histogram_quantiles",
                "histogram_fraction", "histogram_count", "histogram_sum", "histogram_avg", "histogram_stddev", "histogram_stdvar", "info",
            ].contains(name)
    }

    /// Default resolution of a subquery without a step (Prometheus' evaluation interval, 1m).
    static let defaultSubqueryStepMs: Int64 = 60_000

    /// A subquery's points for evaluation time `timestampMs`: the inner expression at every
    /// step-aligned instant in `(t - range, t]`, where t is shifted by `@`/`offset`.
    func evaluateSubquery(_ subquery: SubqueryExpr, at timestampMs: Int64) throws(PromQLError) -> (series: [SeriesPoints], endMs: Int64, rangeMs: Int64) {
        let (end, _) = try shifted(subquery.at, subquery.offset, low: timestampMs, high: timestampMs)
        let range = try milliseconds(subquery.range)
        let step = try subquery.step.map(milliseconds) ?? Self.defaultSubqueryStepMs
        guard step > 0 else { throw PromQLError(code: .execution, message: "subquery step must be positive") }
        var instant = floorDivision(end - range, step) * step
        if instant <= end - range { instant += step }
        var points: [Labels: [Sample]] = [:]
        var order: [Labels] = []
        while instant <= end {
            try context.check()
            switch try evaluate(subquery.expr, at: instant) {
            case .scalar(_, let value):
                if points[.empty] == nil { order.append(.empty) }
                points[.empty, default: []].append(Sample(timestampMs: instant, value: value))
            case .vector(let elements):
                for element in try finalizeNames(elements) {
                    if points[element.labels] == nil { order.append(element.labels) }
                    points[element.labels, default: []].append(Sample(timestampMs: instant, value: element.value))
                }
            default:
                throw PromQLError(code: .execution, message: "subquery of a non-instant expression")
            }
            instant += step
        }
        return (order.map { SeriesPoints(labels: $0, points: points[$0] ?? []) }, end, range)
    }

    /// The instant at which a selector reads, for evaluation time `timestampMs`.
    func readTime(_ selector: VectorSelector, _ timestampMs: Int64) throws(PromQLError) -> Int64 {
        let offset = try selector.offset.map(milliseconds) ?? 0
        switch selector.at {
        case .timestamp(let ms)?: return ms - offset
        case .start?: return startMs - offset
        case .end?: return endMs - offset
        case nil: return timestampMs - offset
        }
    }

    func evaluate(_ expr: Expr, at timestampMs: Int64) throws(PromQLError) -> PromQLValue {
        switch expr {
        case .number(let value, _):
            return .scalar(timestampMs: timestampMs, value: value)
        case .string(let value, _):
            return .string(timestampMs: timestampMs, value: value)
        case .paren(let inner, _):
            return try evaluate(inner, at: timestampMs)
        case .unaryMinus(let inner, _):
            switch try evaluate(inner, at: timestampMs) {
            case .scalar(let t, let value): return .scalar(timestampMs: t, value: -value)
            case .vector(let elements):
                return .vector(elements.map { VectorElement(labels: $0.labels, timestampMs: $0.timestampMs, value: -$0.value, dropsName: true) })
            default: throw PromQLError(code: .execution, message: "unary minus on a non-numeric value")
            }
        case .vectorSelector(let selector):
            let at = try readTime(selector, timestampMs)
            var out: [VectorElement] = []
            if !isRange, let selected = data[selector], selected.claimStream() {
                // An instant query reads one sample per series: asked of storage, which
                // knows the newest without decoding.
                for index in selected.stored.indices {
                    if let sample = selected.stored[index].newestFloat(after: at - engine.lookbackDeltaMs, through: at), !StaleMarker.isStale(sample.value) {
                        try context.loaded(1)
                        out.append(VectorElement(labels: selected.labels[index], timestampMs: timestampMs, value: sample.value))
                    }
                }
                return .vector(out)
            }
            for series in try series(selector) {
                if let sample = series.latest(at: at, lookbackMs: engine.lookbackDeltaMs) {
                    out.append(VectorElement(labels: series.labels, timestampMs: timestampMs, value: sample.value))
                }
            }
            return .vector(out)
        case .matrixSelector(let matrix):
            let at = try readTime(matrix.selector, timestampMs)
            let range = try milliseconds(matrix.range)
            var out: [SeriesPoints] = []
            for series in try series(matrix.selector) {
                let points = series.window(after: at - range, through: at)
                if !points.isEmpty { out.append(SeriesPoints(labels: series.labels, points: points)) }
            }
            return .matrix(out)
        case .call(let call):
            return try evaluateCall(call, at: timestampMs)
        case .subquery(let subquery):
            return .matrix(try evaluateSubquery(subquery, at: timestampMs).series)
        case .aggregate(let aggregate):
            if let streamed = try streamedAggregate(aggregate, at: timestampMs) { return streamed }
            guard case .vector(let elements) = try evaluate(aggregate.expr, at: timestampMs) else {
                throw PromQLError(code: .execution, message: "aggregation needs an instant vector")
            }
            let parameter = try aggregate.param.map { (param) throws(PromQLError) in try evaluate(param, at: timestampMs) }
            return .vector(try Aggregation.apply(aggregate, elements, parameter: parameter, at: timestampMs, context: context))
        case .binary(let binary):
            return try evaluateBinary(binary, at: timestampMs)
        default:
            throw PromQLError(code: .unsupported, message: "\(kind(expr)) is not evaluated by this version of Osprey yet")
        }
    }

    private func evaluateBinary(_ binary: BinaryExpr, at timestampMs: Int64) throws(PromQLError) -> PromQLValue {
        let lhs = try evaluate(binary.lhs, at: timestampMs)
        let rhs = try evaluate(binary.rhs, at: timestampMs)
        switch (lhs, rhs) {
        case (.scalar(_, let a), .scalar(_, let b)):
            return .scalar(timestampMs: timestampMs, value: BinaryOperators.scalarScalar(binary, a, b))
        case (.vector(let vector), .scalar(_, let b)):
            return .vector(try BinaryOperators.vectorScalar(binary, vector, b, scalarOnLeft: false))
        case (.scalar(_, let a), .vector(let vector)):
            return .vector(try BinaryOperators.vectorScalar(binary, vector, a, scalarOnLeft: true))
        case (.vector(let left), .vector(let right)):
            if binary.op.isSetOperator { return .vector(BinaryOperators.setOperation(binary, left, right)) }
            return .vector(try BinaryOperators.vectorVector(binary, left, right))
        default:
            throw PromQLError(code: .execution, message: "binary operation on unsupported operand types")
        }
    }

    func milliseconds(_ duration: DurationExpr) throws(PromQLError) -> Int64 {
        switch duration {
        case .literal(let ms): return ms
        case .expression(let expr):
            let ms = (try durationSeconds(expr) * 1000).rounded()
            guard ms.isFinite, abs(ms) < 9.2e18 else { throw PromQLError(code: .execution, message: "duration out of range") }
            return Int64(ms)
        }
    }

    /// A duration expression in seconds: arithmetic over numbers and the query's `step()` and
    /// `range()` (both 0 for an instant query), `min_of` and `max_of`.
    private func durationSeconds(_ expr: Expr) throws(PromQLError) -> Double {
        switch expr {
        case .number(let value, _): return value
        case .paren(let inner, _): return try durationSeconds(inner)
        case .unaryMinus(let inner, _): return -(try durationSeconds(inner))
        case .binary(let binary):
            let (a, b) = (try durationSeconds(binary.lhs), try durationSeconds(binary.rhs))
            switch binary.op {
            case .add: return a + b
            case .sub: return a - b
            case .mul: return a * b
            case .div: return a / b
            case .mod: return a.truncatingRemainder(dividingBy: b)
            case .pow: return Foundation.pow(a, b)
            default: break
            }
        case .call(let call):
            switch call.function.name {
            case "step": return Double(stepMs) / 1000
            case "range": return Double(endMs - startMs) / 1000
            case "min_of", "max_of" where call.args.count == 2:
                let (a, b) = (try durationSeconds(call.args[0]), try durationSeconds(call.args[1]))
                return call.function.name == "min_of" ? Swift.min(a, b) : Swift.max(a, b)
            default: break
            }
        default: break
        }
        throw PromQLError(code: .execution, message: "invalid duration expression \(expr)")
    }

    func kind(_ expr: Expr) -> String {
        switch expr {
        case .call(let call): return "function \(call.function.name)()"
        case .aggregate(let aggregate): return "aggregation \(aggregate.op.rawValue)"
        case .binary(let binary): return "binary operator \(binary.op.rawValue)"
        case .subquery: return "subquery"
        default: return "expression"
        }
    }
}
