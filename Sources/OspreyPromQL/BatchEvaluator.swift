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
        for series in inner.data[selector] ?? [] {
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
        if RangeFunctions.names.contains(name), call.args.count == 1, case .matrixSelector(let matrix) = call.args[0].unwrappingParens {
            return .vector(try rangeFunction(name, matrix, argument: call.args[0]))
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

    private func rangeFunction(_ name: String, _ matrix: MatrixSelector, argument: Expr) throws(PromQLError) -> [BatchSeries] {
        let range = try inner.milliseconds(matrix.range)
        let ends = try steps.map { (t) throws(PromQLError) in try inner.readTime(matrix.selector, t) }
        let monotonic = matrix.selector.at == nil
        guard let kind = RangeFunctions.Kind(rawValue: name) else { return [] }
        let checksCounter = kind == .rate || kind == .increase
        let dropsName = !RangeFunctions.keepingName.contains(name)
        let input = inner.data[matrix.selector] ?? []
        // Series are independent: large selections are computed on all cores, in contiguous
        // blocks; annotations are added afterwards, in series order.
        var results = [BatchSeries?](repeating: nil, count: input.count)
        let workers = input.count >= 64 ? SeriesData.decodeWorkers : 1
        results.withUnsafeMutableBufferPointer { buffer in
            nonisolated(unsafe) let out = buffer
            DispatchQueue.concurrentPerform(iterations: workers) { worker in
                for index in (input.count * worker / workers)..<(input.count * (worker + 1) / workers) {
                    if index & 255 == 255, (try? context.check()) == nil { return }
                    out[index] = Self.rangeFunction(kind, input[index], ends: ends, range: range, monotonic: monotonic, dropsName: dropsName)
                }
            }
        }
        try context.check()
        var out: [BatchSeries] = []
        out.reserveCapacity(input.count)
        for case let series? in results {
            if checksCounter, let metricName = series.labels.metricName, !metricName.isEmpty,
               !["_total", "_sum", "_count", "_bucket"].contains(where: { metricName.hasSuffix($0) })
            {
                context.info("metric might not be a counter, name does not end in _total/_sum/_count/_bucket: \"\(metricName)\"", at: argument.position)
            }
            out.append(series)
        }
        return out
    }

    /// One series of a range function over all steps; nil when it has no point.
    private static func rangeFunction(
        _ kind: RangeFunctions.Kind, _ series: SeriesData, ends: [Int64], range: Int64, monotonic: Bool, dropsName: Bool
    ) -> BatchSeries? {
        let samples = series.samples
        let hasStale = samples.contains { StaleMarker.isStale($0.value) }
        var values = [Double](repeating: 0, count: ends.count)
        var present = [Bool](repeating: false, count: ends.count)
        var any = false
        var low = 0
        var high = 0
        for (k, end) in ends.enumerated() {
            let start = end - range
            if monotonic {
                while high < samples.count && samples[high].timestampMs <= end { high += 1 }
                while low < high && samples[low].timestampMs <= start { low += 1 }
            } else {
                high = series.upperBound(end)
                low = min(series.upperBound(start), high)
            }
            guard low < high else { continue }
            let value: Double?
            if hasStale {
                let window = samples[low..<high].filter { !StaleMarker.isStale($0.value) }
                value = window.isEmpty ? nil : RangeFunctions.apply(kind, window, rangeStartMs: start, rangeEndMs: end, rangeMs: range)
            } else {
                value = RangeFunctions.apply(kind, samples[low..<high], rangeStartMs: start, rangeEndMs: end, rangeMs: range)
            }
            guard let value else { continue }
            values[k] = value
            present[k] = true
            any = true
        }
        return any ? BatchSeries(labels: series.labels, dropsName: dropsName, values: values, present: present) : nil
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
