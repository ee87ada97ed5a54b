import Foundation
import OspreyModel
import OspreyPromQLParser

extension Evaluator {
    func evaluateCall(_ call: FunctionCall, at timestampMs: Int64) throws(PromQLError) -> PromQLValue {
        let name = call.function.name
        if name == "info" { return try evaluateInfo(call, at: timestampMs) }
        if RangeFunctions.names.contains(name), let argument = call.args.first {
            if let streamed = try streamedRangeFunction(call, at: timestampMs) { return streamed }
            let (windows, end, range) = try rangeWindows(argument, at: timestampMs)
            var out: [VectorElement] = []
            let checksCounter = (name == "rate" || name == "increase") && { if case .matrixSelector = argument.unwrappingParens { return true } else { return false } }()
            for window in windows {
                guard let value = RangeFunctions.apply(name, window.points, rangeStartMs: end - range, rangeEndMs: end, rangeMs: range) else { continue }
                if checksCounter, let metricName = window.labels.metricName, !metricName.isEmpty,
                   !["_total", "_sum", "_count", "_bucket"].contains(where: { metricName.hasSuffix($0) })
                {
                    context.info("metric might not be a counter, name does not end in _total/_sum/_count/_bucket: \"\(metricName)\"", at: argument.position)
                }
                out.append(VectorElement(labels: window.labels, timestampMs: timestampMs, value: value, dropsName: !RangeFunctions.keepingName.contains(name)))
            }
            return .vector(out)
        }
        if name == "absent_over_time", let argument = call.args.first {
            let (windows, _, _) = try rangeWindows(argument, at: timestampMs)
            guard windows.allSatisfy({ $0.points.isEmpty }) else { return .vector([]) }
            return .vector([VectorElement(labels: absentLabels(argument), timestampMs: timestampMs, value: 1)])
        }
        if name == "double_exponential_smoothing", call.args.count == 3 {
            let (windows, _, _) = try rangeWindows(call.args[0], at: timestampMs)
            guard case .scalar(_, let smoothing) = try evaluate(call.args[1], at: timestampMs),
                  case .scalar(_, let trend) = try evaluate(call.args[2], at: timestampMs)
            else { throw PromQLError(code: .execution, message: "double_exponential_smoothing() needs scalar factors") }
            if smoothing <= 0 || smoothing >= 1 {
                throw PromQLError(code: .execution, message: "invalid smoothing factor. Expected: 0 < sf < 1, got: \(String(format: "%f", smoothing))")
            }
            if trend <= 0 || trend >= 1 {
                throw PromQLError(code: .execution, message: "invalid trend factor. Expected: 0 < tf < 1, got: \(String(format: "%f", trend))")
            }
            var out: [VectorElement] = []
            for window in windows where window.points.count >= 2 {
                let value = RangeFunctions.doubleExponentialSmoothing(window.points, smoothing: smoothing, trend: trend)
                out.append(VectorElement(labels: window.labels, timestampMs: timestampMs, value: value, dropsName: true))
            }
            return .vector(out)
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
            if name == "quantile_over_time" && (parameter.isNaN || parameter < 0 || parameter > 1) {
                context.warn("quantile value should be between 0 and 1, got \(GoFloatFormat.g(parameter))", at: call.args[0].position)
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

    /// In an instant query, a range function over a range selector whose series nothing read
    /// yet: the series are streamed through the batch engine over one step (decoded a series
    /// at a time, in parallel for many), never held. Nil otherwise.
    private func streamedRangeFunction(_ call: FunctionCall, at timestampMs: Int64) throws(PromQLError) -> PromQLValue? {
        guard !isRange else { return nil }
        let batch = BatchEvaluator(self, steps: [timestampMs])
        guard let plan = try batch.rangeFunctionPlan(call), plan.selected.canStream else { return nil }
        return .vector(try batch.rangeFunction(plan).map { $0.element(at: 0, timestampMs: timestampMs) })
    }

    /// In an instant query, `sum`/`count`/`group`/`min`/`max` directly over a range function
    /// over a range selector nothing read yet, folded series by series by the batch engine
    /// over one step. Nil otherwise.
    func streamedAggregate(_ aggregate: AggregateExpr, at timestampMs: Int64) throws(PromQLError) -> PromQLValue? {
        guard !isRange, case .vector(let series)? = try BatchEvaluator(self, steps: [timestampMs]).fusedRangeAggregate(aggregate) else { return nil }
        return .vector(series.map { $0.element(at: 0, timestampMs: timestampMs) })
    }

    /// The per-series windows of a range-vector argument (a range selector or a subquery),
    /// with the window's end and length.
    func rangeWindows(_ argument: Expr, at timestampMs: Int64) throws(PromQLError) -> (windows: [(labels: Labels, points: [Sample])], endMs: Int64, rangeMs: Int64) {
        switch argument.unwrappingParens {
        case .matrixSelector(let matrix):
            let end = try readTime(matrix.selector, timestampMs)
            let range = try milliseconds(matrix.range)
            return (try series(matrix.selector).map { ($0.labels, $0.window(after: end - range, through: end)) }, end, range)
        case .subquery(let subquery):
            let result = try evaluateSubquery(subquery, at: timestampMs)
            return (result.series.map { ($0.labels, $0.points) }, result.endMs, result.rangeMs)
        default:
            throw PromQLError(code: .execution, message: "expected a range vector")
        }
    }

    /// Functions of an instant vector and scalar or string parameters; nil for other functions.
    func evaluateVectorFunction(_ call: FunctionCall, at timestampMs: Int64) throws(PromQLError) -> PromQLValue? {
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
                for series in try series(selector) {
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
            if isRange { context.warn("sort is ineffective for range queries since results are always ordered by labels", at: call.position) }
            let descending = name == "sort_desc"
            return .vector(try vector(0).sorted { a, b in
                if a.value.isNaN { return false }
                if b.value.isNaN { return true }
                return descending ? a.value > b.value : a.value < b.value
            })
        case "sort_by_label", "sort_by_label_desc":
            if isRange { context.warn("sort is ineffective for range queries since results are always ordered by labels", at: call.position) }
            var names: [String] = []
            for index in 1..<max(1, call.args.count) { names.append(try string(index)) }
            return .vector(SortByLabel.sort(try vector(0), by: names, descending: name == "sort_by_label_desc"))
        case "histogram_quantile":
            let q = try scalar(0)
            if q.isNaN || q < 0 || q > 1 {
                context.warn("quantile value should be between 0 and 1, got \(GoFloatFormat.g(q))", at: call.args[0].position)
            }
            return .vector(histogramQuantiles(try vector(1), argument: call.args[1], quantiles: [q], label: nil, at: timestampMs))
        case "histogram_quantiles":
            let elements = try vector(0)
            let label = try string(1)
            var quantiles: [Double] = []
            for index in 2..<max(2, call.args.count) {
                let q = try scalar(index)
                if q.isNaN || q < 0 || q > 1 {
                    context.warn("quantile value should be between 0 and 1, got \(GoFloatFormat.g(q))", at: call.args[index].position)
                }
                quantiles.append(q)
            }
            return .vector(histogramQuantiles(elements, argument: call.args[0], quantiles: quantiles, label: label, at: timestampMs))
        case "histogram_fraction":
            let (lower, upper) = (try scalar(0), try scalar(1))
            let groups = HistogramFunctions.groups(try vector(2)) { metric, le in badBucket(metric, le, call.args[2]) }
            return .vector(groups.map { group in
                VectorElement(labels: group.labels, timestampMs: timestampMs, value: HistogramFunctions.bucketFraction(lower, upper, group.buckets), dropsName: true)
            })
        case "histogram_count", "histogram_sum", "histogram_avg", "histogram_stddev", "histogram_stdvar":
            // These read native histogram samples only; float samples are ignored.
            _ = try vector(0)
            return .vector([])
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

    /// Quantiles of the classic histograms in `elements`; with `label`, one series per quantile
    /// carrying it (`histogram_quantiles`).
    private func histogramQuantiles(_ elements: [VectorElement], argument: Expr, quantiles: [Double], label: String?, at timestampMs: Int64) -> [VectorElement] {
        let groups = HistogramFunctions.groups(elements) { metric, le in badBucket(metric, le, argument) }
        var out: [VectorElement] = []
        for q in quantiles {
            for group in groups {
                let result = HistogramFunctions.bucketQuantile(q, group.buckets)
                if result.forcedMonotonic {
                    context.histogramMonotonicityInfo(
                        metricName: group.labels.metricName ?? "", at: argument.position, timestampMs: timestampMs,
                        minBucket: result.minBucket, maxBucket: result.maxBucket, maxDiff: result.maxDiff
                    )
                }
                var labels = group.labels
                if let label {
                    var builder = LabelsBuilder(labels)
                    builder.set(label, q.isNaN ? "NaN" : OpenMetricsFloat.format(q))
                    labels = builder.labels()
                }
                out.append(VectorElement(labels: labels, timestampMs: timestampMs, value: result.value, dropsName: true))
            }
        }
        return out
    }

    private func badBucket(_ metricName: String, _ le: String, _ argument: Expr) {
        var message = "bucket label \"le\" is missing or has a malformed value of \"\(le)\""
        if !metricName.isEmpty { message += " for metric name \"\(metricName)\"" }
        context.warn(message, at: argument.position)
    }

    /// The labels `absent()` reports: the selector's equality matchers, as Prometheus'
    /// `createLabelsForAbsentFunction` (a label matched twice is left out).
    func absentLabels(_ expr: Expr) -> Labels {
        let selector: VectorSelector?
        switch expr.unwrappingParens {
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
}
