package import OspreyModel
package import OspreyPromQLParser
package import OspreyStorage

/// Evaluates parsed PromQL over the storage querier contract.
///
/// This first version evaluates literals, parentheses, unary minus and instant and range
/// vector selectors (lookback, staleness, `offset`, `@`); other nodes throw `.unsupported`.
/// Selector data is read once per query and shared by all steps of a range query.
package struct PromQLEngine: Sendable {
    /// Where data comes from.
    package let queryable: any MetricQueryable
    /// How far back an instant selector looks for a sample (Prometheus' default 5m).
    package var lookbackDeltaMs: Int64 = 300_000

    /// An engine over `queryable`.
    package init(queryable: any MetricQueryable) {
        self.queryable = queryable
    }

    /// An instant query at `timestampMs`.
    package func instantQuery(_ expr: Expr, atMs timestampMs: Int64) throws(PromQLError) -> PromQLValue {
        let evaluator = try Evaluator(engine: self, expr: expr, startMs: timestampMs, endMs: timestampMs, stepMs: 1)
        let value = try evaluator.evaluate(expr, at: timestampMs)
        if case .vector(let elements) = value { return .vector(try finalizeNames(elements)) }
        return value
    }

    /// A range query: the expression at `startMs, startMs+stepMs, … ≤ endMs`, as a matrix.
    package func rangeQuery(_ expr: Expr, startMs: Int64, endMs: Int64, stepMs: Int64) throws(PromQLError) -> [SeriesPoints] {
        guard stepMs > 0 else { throw PromQLError(code: .execution, message: "zero or negative query resolution step widths are not accepted") }
        guard expr.type == .scalar || expr.type == .vector else {
            throw PromQLError(code: .execution, message: "invalid expression type \"\(expr.type.rawValue)\" for range query, must be Scalar or instant Vector")
        }
        let evaluator = try Evaluator(engine: self, expr: expr, startMs: startMs, endMs: endMs, stepMs: stepMs)
        var series: [Labels: [Sample]] = [:]
        var timestamp = startMs
        while timestamp <= endMs {
            switch try evaluator.evaluate(expr, at: timestamp) {
            case .scalar(_, let value):
                series[.empty, default: []].append(Sample(timestampMs: timestamp, value: value))
            case .vector(let elements):
                for element in try finalizeNames(elements) {
                    series[element.labels, default: []].append(Sample(timestampMs: timestamp, value: element.value))
                }
            case .string, .matrix:
                throw PromQLError(code: .execution, message: "invalid expression type for range query")
            }
            timestamp += stepMs
        }
        return series.map { SeriesPoints(labels: $0.key, points: $0.value) }.sorted { $0.labels < $1.labels }
    }
}

/// One query's evaluation: prefetched selector data and per-step evaluation.
struct Evaluator {
    let engine: PromQLEngine
    let startMs: Int64
    let endMs: Int64
    private var data: [VectorSelector: [SeriesData]] = [:]

    init(engine: PromQLEngine, expr: Expr, startMs: Int64, endMs: Int64, stepMs: Int64) throws(PromQLError) {
        self.engine = engine
        self.startMs = startMs
        self.endMs = endMs
        var needed: [VectorSelector: (low: Int64, high: Int64)] = [:]
        try collect(expr, low: startMs, high: endMs, into: &needed)
        for (selector, window) in needed {
            data[selector] = try SeriesData.select(engine.queryable, matchers: selector.matchers, minMs: window.low, maxMs: window.high)
        }
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
            for argument in call.args { try collect(argument, low: low, high: high, into: &needed) }
        case .aggregate(let aggregate) where aggregate.op != .limitk && aggregate.op != .limitRatio:
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
        if RangeFunctions.names.contains(name) || ["absent_over_time", "quantile_over_time", "predict_linear", "mad_over_time"].contains(name) {
            return call.args.contains { if case .matrixSelector = $0 { return true }; if case .subquery = $0 { return true }; return false }
        }
        return InstantFunctions.math[name] != nil || DateFunctions.names.contains(name)
            || ["vector", "scalar", "time", "pi", "timestamp", "label_replace", "label_join", "clamp", "clamp_min", "clamp_max", "round", "sort", "sort_desc", "absent"].contains(name)
    }

    /// Default resolution of a subquery without a step (Prometheus' evaluation interval, 1m).
    static let defaultSubqueryStepMs: Int64 = 60_000

    /// A subquery's points for evaluation time `timestampMs`: the inner expression at every
    /// step-aligned instant in `(t - range, t]`, where t is shifted by `@`/`offset`.
    private func evaluateSubquery(_ subquery: SubqueryExpr, at timestampMs: Int64) throws(PromQLError) -> (series: [SeriesPoints], endMs: Int64, rangeMs: Int64) {
        let (end, _) = try shifted(subquery.at, subquery.offset, low: timestampMs, high: timestampMs)
        let range = try milliseconds(subquery.range)
        let step = try subquery.step.map(milliseconds) ?? Self.defaultSubqueryStepMs
        guard step > 0 else { throw PromQLError(code: .execution, message: "subquery step must be positive") }
        var instant = floorDivision(end - range, step) * step
        if instant <= end - range { instant += step }
        var points: [Labels: [Sample]] = [:]
        var order: [Labels] = []
        while instant <= end {
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
    private func readTime(_ selector: VectorSelector, _ timestampMs: Int64) throws(PromQLError) -> Int64 {
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
            for series in data[selector] ?? [] {
                if let sample = series.latest(at: at, lookbackMs: engine.lookbackDeltaMs) {
                    out.append(VectorElement(labels: series.labels, timestampMs: timestampMs, value: sample.value))
                }
            }
            return .vector(out)
        case .matrixSelector(let matrix):
            let at = try readTime(matrix.selector, timestampMs)
            let range = try milliseconds(matrix.range)
            var out: [SeriesPoints] = []
            for series in data[matrix.selector] ?? [] {
                let points = series.window(after: at - range, through: at)
                if !points.isEmpty { out.append(SeriesPoints(labels: series.labels, points: points)) }
            }
            return .matrix(out)
        case .call(let call):
            return try evaluateCall(call, at: timestampMs)
        case .subquery(let subquery):
            return .matrix(try evaluateSubquery(subquery, at: timestampMs).series)
        case .aggregate(let aggregate):
            guard case .vector(let elements) = try evaluate(aggregate.expr, at: timestampMs) else {
                throw PromQLError(code: .execution, message: "aggregation needs an instant vector")
            }
            let parameter = try aggregate.param.map { (param) throws(PromQLError) in try evaluate(param, at: timestampMs) }
            return .vector(try Aggregation.apply(aggregate, elements, parameter: parameter, at: timestampMs))
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

    private func evaluateCall(_ call: FunctionCall, at timestampMs: Int64) throws(PromQLError) -> PromQLValue {
        let name = call.function.name
        if RangeFunctions.names.contains(name), let argument = call.args.first {
            let (windows, end, range) = try rangeWindows(argument, at: timestampMs)
            var out: [VectorElement] = []
            for window in windows {
                guard let value = RangeFunctions.apply(name, window.points, rangeStartMs: end - range, rangeEndMs: end, rangeMs: range) else { continue }
                out.append(VectorElement(labels: window.labels, timestampMs: timestampMs, value: value, dropsName: name != "last_over_time"))
            }
            return .vector(out)
        }
        if name == "absent_over_time", let argument = call.args.first {
            let (windows, _, _) = try rangeWindows(argument, at: timestampMs)
            guard windows.allSatisfy({ $0.points.isEmpty }) else { return .vector([]) }
            return .vector([VectorElement(labels: absentLabels(argument), timestampMs: timestampMs, value: 1)])
        }
        if name == "quantile_over_time" || name == "predict_linear" || name == "mad_over_time", call.args.count >= 1 {
            let matrixIndex = name == "quantile_over_time" ? 1 : 0
            let (windows, _, _) = try rangeWindows(call.args[matrixIndex], at: timestampMs)
            var parameter = 0.0
            if name != "mad_over_time" {
                guard case .scalar(_, let value) = try evaluate(call.args[1 - matrixIndex], at: timestampMs) else {
                    throw PromQLError(code: .execution, message: "\(name)() needs a scalar parameter")
                }
                parameter = value
            }
            var out: [VectorElement] = []
            for window in windows where !window.points.isEmpty {
                let values = window.points.map(\.value)
                let value: Double
                switch name {
                case "quantile_over_time": value = Aggregation.quantile(parameter, values)
                case "mad_over_time":
                    // A NaN anywhere makes the deviation NaN, as in Prometheus.
                    if values.contains(where: \.isNaN) {
                        out.append(VectorElement(labels: window.labels, timestampMs: timestampMs, value: .nan, dropsName: true))
                        continue
                    }
                    let median = Aggregation.quantile(0.5, values)
                    value = Aggregation.quantile(0.5, values.map { abs($0 - median) })
                default:
                    guard window.points.count >= 2 else { continue }
                    let fit = RangeFunctions.linearRegression(window.points, interceptTimeMs: timestampMs)
                    value = fit.slope * parameter + fit.intercept
                }
                out.append(VectorElement(labels: window.labels, timestampMs: timestampMs, value: value, dropsName: true))
            }
            return .vector(out)
        }
        if let function = InstantFunctions.math[name], let argument = call.args.first {
            guard case .vector(let elements) = try evaluate(argument, at: timestampMs) else {
                throw PromQLError(code: .execution, message: "\(name)() needs an instant vector")
            }
            return .vector(elements.map { VectorElement(labels: $0.labels, timestampMs: $0.timestampMs, value: function($0.value), dropsName: true) })
        }
        if let value = try evaluateVectorFunction(call, at: timestampMs) { return value }
        switch name {
        case "time": return .scalar(timestampMs: timestampMs, value: Double(timestampMs) / 1000)
        case "pi": return .scalar(timestampMs: timestampMs, value: Double.pi)
        case "vector":
            guard let argument = call.args.first, case .scalar(_, let value) = try evaluate(argument, at: timestampMs) else {
                throw PromQLError(code: .execution, message: "vector() needs a scalar")
            }
            return .vector([VectorElement(labels: .empty, timestampMs: timestampMs, value: value)])
        case "scalar":
            guard let argument = call.args.first, case .vector(let elements) = try evaluate(argument, at: timestampMs) else {
                throw PromQLError(code: .execution, message: "scalar() needs an instant vector")
            }
            return .scalar(timestampMs: timestampMs, value: elements.count == 1 ? elements[0].value : .nan)
        default:
            throw PromQLError(code: .unsupported, message: "function \(name)() is not evaluated by this version of Osprey yet")
        }
    }

    /// The per-series windows of a range-vector argument (a range selector or a subquery),
    /// with the window's end and length.
    private func rangeWindows(_ argument: Expr, at timestampMs: Int64) throws(PromQLError) -> (windows: [(labels: Labels, points: [Sample])], endMs: Int64, rangeMs: Int64) {
        switch argument {
        case .matrixSelector(let matrix):
            let end = try readTime(matrix.selector, timestampMs)
            let range = try milliseconds(matrix.range)
            return ((data[matrix.selector] ?? []).map { ($0.labels, $0.window(after: end - range, through: end)) }, end, range)
        case .subquery(let subquery):
            let result = try evaluateSubquery(subquery, at: timestampMs)
            return (result.series.map { ($0.labels, $0.points) }, result.endMs, result.rangeMs)
        default:
            throw PromQLError(code: .execution, message: "expected a range vector")
        }
    }

    /// Functions of an instant vector and scalar or string parameters; nil for other functions.
    private func evaluateVectorFunction(_ call: FunctionCall, at timestampMs: Int64) throws(PromQLError) -> PromQLValue? {
        let name = call.function.name
        func vector(_ index: Int) throws(PromQLError) -> [VectorElement] {
            guard index < call.args.count, case .vector(let elements) = try evaluate(call.args[index], at: timestampMs) else {
                throw PromQLError(code: .execution, message: "\(name)() needs an instant vector")
            }
            return elements
        }
        func scalar(_ index: Int) throws(PromQLError) -> Double {
            guard index < call.args.count, case .scalar(_, let value) = try evaluate(call.args[index], at: timestampMs) else {
                throw PromQLError(code: .execution, message: "\(name)() needs a scalar")
            }
            return value
        }
        func string(_ index: Int) throws(PromQLError) -> String {
            guard index < call.args.count, case .string(_, let value) = try evaluate(call.args[index], at: timestampMs) else {
                throw PromQLError(code: .execution, message: "\(name)() needs a string")
            }
            return value
        }
        func mapped(_ elements: [VectorElement], _ transform: (Double) -> Double) -> PromQLValue {
            .vector(elements.map { VectorElement(labels: $0.labels, timestampMs: $0.timestampMs, value: transform($0.value), dropsName: true) })
        }
        switch name {
        case "timestamp":
            // Of a selector: the selected samples' own timestamps; otherwise the evaluation time.
            var argument = call.args[0]
            while case .paren(let inner, _) = argument { argument = inner }
            if case .vectorSelector(let selector) = argument {
                let at = try readTime(selector, timestampMs)
                var out: [VectorElement] = []
                for series in data[selector] ?? [] {
                    guard let sample = series.latest(at: at, lookbackMs: engine.lookbackDeltaMs) else { continue }
                    out.append(VectorElement(labels: series.labels, timestampMs: timestampMs, value: Double(sample.timestampMs) / 1000, dropsName: true))
                }
                return .vector(out)
            }
            return mapped(try vector(0).map { var copy = $0; copy.value = Double(timestampMs) / 1000; return copy }) { $0 }
        case "label_replace":
            return .vector(try LabelFunctions.replace(try vector(0), destination: try string(1), replacement: try string(2), source: try string(3), regex: try string(4)))
        case "label_join":
            var sources: [String] = []
            for index in 3..<max(3, call.args.count) { sources.append(try string(index)) }
            return .vector(try LabelFunctions.join(try vector(0), destination: try string(1), separator: try string(2), sources: sources))
        case "clamp":
            let (low, high) = (try scalar(1), try scalar(2))
            if high < low { return .vector([]) }
            return mapped(try vector(0)) { Swift.max(low, Swift.min(high, $0)) }
        case "clamp_min":
            let low = try scalar(1)
            return mapped(try vector(0)) { Swift.max(low, $0) }
        case "clamp_max":
            let high = try scalar(1)
            return mapped(try vector(0)) { Swift.min(high, $0) }
        case "round":
            let toNearest = call.args.count > 1 ? try scalar(1) : 1
            let inverse = 1 / toNearest
            return mapped(try vector(0)) { ($0 * inverse + 0.5).rounded(.down) / inverse }
        case "sort", "sort_desc":
            let descending = name == "sort_desc"
            return .vector(try vector(0).sorted { a, b in
                if a.value.isNaN { return false }
                if b.value.isNaN { return true }
                return descending ? a.value > b.value : a.value < b.value
            })
        case "absent":
            guard try vector(0).isEmpty else { return .vector([]) }
            return .vector([VectorElement(labels: absentLabels(call.args[0]), timestampMs: timestampMs, value: 1)])
        default:
            guard DateFunctions.names.contains(name) else { return nil }
            let input = call.args.isEmpty
                ? [VectorElement(labels: .empty, timestampMs: timestampMs, value: Double(timestampMs) / 1000)]
                : try vector(0)
            return mapped(input) { DateFunctions.apply(name, seconds: $0) }
        }
    }

    /// The labels `absent()` reports: the selector's equality matchers, as Prometheus'
    /// `createLabelsForAbsentFunction` (a label matched twice is left out).
    private func absentLabels(_ expr: Expr) -> Labels {
        let selector: VectorSelector?
        switch expr {
        case .vectorSelector(let vector): selector = vector
        case .matrixSelector(let matrix): selector = matrix.selector
        case .subquery(let subquery):
            if case .vectorSelector(let vector) = subquery.expr { selector = vector } else { selector = nil }
        default: selector = nil
        }
        guard let selector else { return .empty }
        var values: [String: String] = [:]
        var repeated = Set<String>()
        for matcher in selector.matchers where matcher.name != Labels.metricNameLabel {
            if values[matcher.name] != nil { repeated.insert(matcher.name) }
            if matcher.type == .equal { values[matcher.name] = matcher.value }
        }
        for name in repeated { values[name] = nil }
        return Labels(values)
    }

    private func milliseconds(_ duration: DurationExpr) throws(PromQLError) -> Int64 {
        guard case .literal(let ms) = duration else {
            throw PromQLError(code: .unsupported, message: "duration expressions are not evaluated by this version of Osprey yet")
        }
        return ms
    }

    private func kind(_ expr: Expr) -> String {
        switch expr {
        case .call(let call): return "function \(call.function.name)()"
        case .aggregate(let aggregate): return "aggregation \(aggregate.op.rawValue)"
        case .binary(let binary): return "binary operator \(binary.op.rawValue)"
        case .subquery: return "subquery"
        default: return "expression"
        }
    }
}

/// Removes the names marked for removal and fails, as Prometheus does, when that makes two
/// elements identical. Runs once on the final result of an evaluation step.
func finalizeNames(_ elements: [VectorElement]) throws(PromQLError) -> [VectorElement] {
    var seen = Set<Labels>()
    var out: [VectorElement] = []
    out.reserveCapacity(elements.count)
    for var element in elements {
        if element.dropsName {
            element.labels = dropName(element.labels)
            element.dropsName = false
        }
        guard seen.insert(element.labels).inserted else {
            throw PromQLError(code: .execution, message: "vector cannot contain metrics with the same labelset")
        }
        out.append(element)
    }
    return out
}

/// Labels without `__name__`; the metadata labels `__type__` and `__unit__` go with it, as in
/// Prometheus 3.
func dropName(_ labels: Labels) -> Labels {
    let dropped: Set<String> = [Labels.metricNameLabel, "__type__", "__unit__"]
    guard labels.contains(where: { dropped.contains($0.name) }) else { return labels }
    return Labels(sortedUnchecked: labels.filter { !dropped.contains($0.name) })
}

/// Floor division for possibly negative timestamps.
func floorDivision(_ a: Int64, _ b: Int64) -> Int64 {
    let quotient = a / b
    return (a % b != 0 && (a < 0) != (b < 0)) ? quotient - 1 : quotient
}
