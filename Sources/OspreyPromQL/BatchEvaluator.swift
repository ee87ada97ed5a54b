import Dispatch
import OspreyModel
import OspreyPromQLParser

/// One series over all steps of a range query.
struct BatchSeries {
    var labels: Labels
    var dropsName: Bool
    var values: [Double]
    var present: [Bool]
}

extension BatchSeries {
    /// The point at step `k` (which must be present) as an element of an instant vector.
    func element(at k: Int, timestampMs: Int64) -> VectorElement {
        VectorElement(labels: labels, timestampMs: timestampMs, value: values[k], dropsName: dropsName)
    }
}

/// A value over all steps of a range query.
enum BatchValue {
    case scalar([Double])
    case vector([BatchSeries])
}

/// Evaluates a range query a node at a time over all steps, as Prometheus' `rangeEval` does:
/// labels, groupings and matchings are worked out once per series, and each series' samples
/// are walked once with moving window bounds. Selectors, range functions over selectors,
/// aggregations, arithmetic and comparisons, and math functions run here; any other node is
/// evaluated step by step by ``Evaluator`` and packed into series.
struct BatchEvaluator {
    let inner: Evaluator
    let context: QueryContext
    let steps: [Int64]

    init(_ inner: Evaluator, steps: [Int64]) {
        self.inner = inner
        self.context = inner.context
        self.steps = steps
    }

    func evaluate(_ expr: Expr) throws(PromQLError) -> BatchValue {
        try context.check()
        switch expr {
        case .number(let value, _):
            return .scalar(Array(repeating: value, count: steps.count))
        case .paren(let inner, _):
            return try evaluate(inner)
        case .unaryMinus(let operand, _):
            switch try evaluate(operand) {
            case .scalar(let values): return .scalar(values.map { -$0 })
            case .vector(let series):
                return .vector(series.map { one in
                    var copy = one
                    copy.values = one.values.map { -$0 }
                    copy.dropsName = true
                    return copy
                })
            }
        case .vectorSelector(let selector):
            return .vector(try select(selector))
        case .call(let call):
            if let value = try evaluateCall(call) { return value }
        case .aggregate(let aggregate):
            if let value = try evaluateAggregate(aggregate) { return value }
        case .binary(let binary):
            return try evaluateBinary(binary)
        default:
            break
        }
        return try stepwise(expr)
    }

    // MARK: Selectors

    private func select(_ selector: VectorSelector) throws(PromQLError) -> [BatchSeries] {
        let lookback = inner.engine.lookbackDeltaMs
        let readTimes = try steps.map { (t) throws(PromQLError) in try inner.readTime(selector, t) }
        let monotonic = selector.at == nil
        var out: [BatchSeries] = []
        for series in try inner.series(selector) {
            let samples = series.samples
            var values = [Double](repeating: 0, count: steps.count)
            var present = [Bool](repeating: false, count: steps.count)
            var any = false
            var next = 0
            for (k, at) in readTimes.enumerated() {
                let index: Int
                if monotonic {
                    while next < samples.count && samples[next].timestampMs <= at { next += 1 }
                    index = next - 1
                } else {
                    index = series.upperBound(at) - 1
                }
                guard index >= 0 else { continue }
                let sample = samples[index]
                guard sample.timestampMs > at - lookback, !StaleMarker.isStale(sample.value) else { continue }
                values[k] = sample.value
                present[k] = true
                any = true
            }
            if any { out.append(BatchSeries(labels: series.labels, dropsName: false, values: values, present: present)) }
        }
        return out
    }

    // MARK: Functions

    private func evaluateCall(_ call: FunctionCall) throws(PromQLError) -> BatchValue? {
        let name = call.function.name
        if let plan = try rangeFunctionPlan(call) {
            return .vector(try rangeFunction(plan))
        }
        if let function = InstantFunctions.math[name], call.args.count == 1 {
            guard case .vector(let series) = try evaluate(call.args[0]) else { return nil }
            return .vector(series.map { one in
                var copy = one
                copy.values = one.values.map(function)
                copy.dropsName = true
                return copy
            })
        }
        if name == "histogram_quantile", call.args.count == 2 {
            return try histogramQuantile(call)
        }
        return nil
    }

    private func histogramQuantile(_ call: FunctionCall) throws(PromQLError) -> BatchValue? {
        guard case .scalar(let quantiles) = try evaluate(call.args[0]), case .vector(let input) = try evaluate(call.args[1]) else { return nil }
        // Bucket series grouped once by their labels without `le`.
        var groupIndex: [Labels: Int] = [:]
        var groups: [(labels: Labels, dropsName: Bool, members: [(series: Int, upperBound: Double)])] = []
        var malformed: [Int] = []
        for (index, series) in input.enumerated() {
            guard let upperBound = HistogramFunctions.parseFloat(series.labels["le"] ?? "") else {
                malformed.append(index)
                continue
            }
            let key = Labels(sortedUnchecked: series.labels.filter { $0.name != "le" })
            if let position = groupIndex[key] {
                groups[position].members.append((index, upperBound))
                groups[position].dropsName = groups[position].dropsName || series.dropsName
            } else {
                groupIndex[key] = groups.count
                groups.append((key, series.dropsName, [(index, upperBound)]))
            }
        }
        var out = groups.map { BatchSeries(labels: $0.labels, dropsName: true, values: Array(repeating: 0, count: steps.count), present: Array(repeating: false, count: steps.count)) }
        var buckets: [HistogramFunctions.Bucket] = []
        for k in steps.indices {
            let q = quantiles[k]
            if q.isNaN || q < 0 || q > 1 {
                context.warn("quantile value should be between 0 and 1, got \(GoFloatFormat.g(q))", at: call.args[0].position)
            }
            for index in malformed where input[index].present[k] {
                var message = "bucket label \"le\" is missing or has a malformed value of \"\(input[index].labels["le"] ?? "")\""
                if let metric = input[index].labels.metricName, !metric.isEmpty { message += " for metric name \"\(metric)\"" }
                context.warn(message, at: call.args[1].position)
            }
            for (g, group) in groups.enumerated() {
                buckets.removeAll(keepingCapacity: true)
                for member in group.members where input[member.series].present[k] {
                    buckets.append(HistogramFunctions.Bucket(upperBound: member.upperBound, count: input[member.series].values[k]))
                }
                guard !buckets.isEmpty else { continue }
                let result = HistogramFunctions.bucketQuantile(q, buckets)
                if result.forcedMonotonic {
                    context.histogramMonotonicityInfo(
                        metricName: group.labels.metricName ?? "", at: call.args[1].position, timestampMs: steps[k],
                        minBucket: result.minBucket, maxBucket: result.maxBucket, maxDiff: result.maxDiff
                    )
                }
                out[g].values[k] = result.value
                out[g].present[k] = true
            }
        }
        return .vector(out.filter { $0.present.contains(true) })
    }

    // MARK: Step-by-step fallback

    /// An output series' identity while packing or matching.
    struct SeriesKey: Hashable {
        var labels: Labels
        var dropsName: Bool
    }

    /// Builds series from per-step instant vectors.
    private func pack(_ step: (Int) throws(PromQLError) -> [VectorElement]) throws(PromQLError) -> [BatchSeries] {
        var index: [SeriesKey: Int] = [:]
        var out: [BatchSeries] = []
        for k in steps.indices {
            try context.check()
            for element in try step(k) {
                let key = SeriesKey(labels: element.labels, dropsName: element.dropsName)
                let position: Int
                if let existing = index[key] {
                    position = existing
                } else {
                    position = out.count
                    index[key] = position
                    out.append(BatchSeries(labels: element.labels, dropsName: element.dropsName, values: Array(repeating: 0, count: steps.count), present: Array(repeating: false, count: steps.count)))
                }
                if out[position].present[k] {
                    throw PromQLError(code: .execution, message: "vector cannot contain metrics with the same labelset")
                }
                out[position].values[k] = element.value
                out[position].present[k] = true
            }
        }
        return out
    }

    private func stepwise(_ expr: Expr) throws(PromQLError) -> BatchValue {
        if expr.type == .scalar {
            var values: [Double] = []
            values.reserveCapacity(steps.count)
            for t in steps {
                try context.check()
                guard case .scalar(_, let value) = try inner.evaluate(expr, at: t) else {
                    throw PromQLError(code: .execution, message: "expected a scalar")
                }
                values.append(value)
            }
            return .scalar(values)
        }
        return .vector(try pack { (k) throws(PromQLError) in
            switch try inner.evaluate(expr, at: steps[k]) {
            case .vector(let elements): return elements
            default: throw PromQLError(code: .execution, message: "invalid expression type for range query")
            }
        })
    }
}
