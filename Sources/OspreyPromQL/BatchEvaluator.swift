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

    // MARK: Aggregations

    private func evaluateAggregate(_ aggregate: AggregateExpr) throws(PromQLError) -> BatchValue? {
        let reducing: Set<AggregationOp> = [.sum, .avg, .count, .group, .min, .max, .stddev, .stdvar, .quantile]
        guard reducing.contains(aggregate.op) || aggregate.op == .topk || aggregate.op == .bottomk else { return nil }
        var parameters: [Double]?
        if let param = aggregate.param {
            guard case .scalar(let values) = try evaluate(param) else { return nil }
            parameters = values
        }
        guard case .vector(let input) = try evaluate(aggregate.expr) else { return nil }
        var groupIndex: [Labels: Int] = [:]
        var groupLabels: [Labels] = []
        var members: [[Int]] = []
        for (index, series) in input.enumerated() {
            let key = Aggregation.groupLabels(series.labels, aggregate)
            if let position = groupIndex[key] {
                members[position].append(index)
            } else {
                groupIndex[key] = groupLabels.count
                groupLabels.append(key)
                members.append([index])
            }
        }
        if aggregate.op == .topk || aggregate.op == .bottomk {
            var out = input.map { BatchSeries(labels: $0.labels, dropsName: $0.dropsName, values: $0.values, present: Array(repeating: false, count: steps.count)) }
            for k in steps.indices {
                let parameter = PromQLValue.scalar(timestampMs: steps[k], value: parameters?[k] ?? .nan)
                guard try Aggregation.validate(aggregate, parameter: parameter, context: context) else { continue }
                for group in members {
                    let candidates = group.filter { input[$0].present[k] }
                    guard !candidates.isEmpty else { continue }
                    let elements = candidates.map { VectorElement(labels: input[$0].labels, timestampMs: steps[k], value: input[$0].values[k]) }
                    let chosen = try Aggregation.selectK(aggregate.op, parameters?[k] ?? .nan, elements)
                    // selectK keeps element identity by position in `elements`.
                    for element in chosen {
                        if let position = elements.firstIndex(where: { $0.labels == element.labels }) { out[candidates[position]].present[k] = true }
                    }
                }
            }
            return .vector(out.filter { $0.present.contains(true) })
        }
        let dropsName = groupLabels.indices.map { g in groupLabels[g].metricName != nil && members[g].contains { input[$0].dropsName } }
        var out = groupLabels.indices.map { g in
            BatchSeries(labels: groupLabels[g], dropsName: dropsName[g], values: Array(repeating: 0, count: steps.count), present: Array(repeating: false, count: steps.count))
        }
        if [.sum, .count, .group, .min, .max, .avg].contains(aggregate.op) {
            // Series by series into per-group accumulators: the same operations, in the same
            // member order per step, as the per-step reduction, without gathering values.
            for (g, group) in members.enumerated() {
                var accumulators = [GroupAccumulator](repeating: GroupAccumulator(), count: steps.count)
                for index in group {
                    let series = input[index]
                    for k in steps.indices where series.present[k] {
                        accumulators[k].add(series.values[k], aggregate.op)
                    }
                }
                for k in steps.indices where accumulators[k].count > 0 {
                    out[g].values[k] = accumulators[k].result(aggregate.op)
                    out[g].present[k] = true
                }
                try context.check()
            }
            return .vector(out.filter { $0.present.contains(true) })
        }
        var values: [Double] = []
        for k in steps.indices {
            let parameter = parameters?[k] ?? 0
            if aggregate.op == .quantile {
                guard try Aggregation.validate(aggregate, parameter: .scalar(timestampMs: steps[k], value: parameter), context: context) else { continue }
            }
            for (g, group) in members.enumerated() {
                values.removeAll(keepingCapacity: true)
                for index in group where input[index].present[k] { values.append(input[index].values[k]) }
                guard !values.isEmpty else { continue }
                out[g].values[k] = Aggregation.reduce(aggregate.op, values, parameter: parameter)
                out[g].present[k] = true
            }
            if k & 63 == 63 { try context.check() }
        }
        return .vector(out.filter { $0.present.contains(true) })
    }

    // MARK: Binary operators

    private func evaluateBinary(_ binary: BinaryExpr) throws(PromQLError) -> BatchValue {
        let lhs = try evaluate(binary.lhs)
        let rhs = try evaluate(binary.rhs)
        switch (lhs, rhs) {
        case (.scalar(let a), .scalar(let b)):
            return .scalar(steps.indices.map { BinaryOperators.scalarScalar(binary, a[$0], b[$0]) })
        case (.vector(let vector), .scalar(let scalars)):
            return .vector(vectorScalar(binary, vector, scalars, scalarOnLeft: false))
        case (.scalar(let scalars), .vector(let vector)):
            return .vector(vectorScalar(binary, vector, scalars, scalarOnLeft: true))
        case (.vector(let left), .vector(let right)):
            if binary.op.isSetOperator { return .vector(try setOperation(binary, left, right)) }
            return .vector(try vectorVector(binary, left, right))
        }
    }

    /// Match-group ids of the series of both sides, worked out once.
    private func signatures(_ left: [BatchSeries], _ right: [BatchSeries], _ matching: VectorMatching) -> (left: [Int], right: [Int], count: Int) {
        var ids: [Labels: Int] = [:]
        func id(_ labels: Labels) -> Int {
            let signature = BinaryOperators.signature(labels, matching)
            if let existing = ids[signature] { return existing }
            ids[signature] = ids.count
            return ids.count - 1
        }
        let l = left.map { id($0.labels) }
        let r = right.map { id($0.labels) }
        return (l, r, ids.count)
    }

    /// `and`, `or`, `unless`, step by step over precomputed match groups.
    private func setOperation(_ binary: BinaryExpr, _ left: [BatchSeries], _ right: [BatchSeries]) throws(PromQLError) -> [BatchSeries] {
        let matching = binary.matching ?? VectorMatching(cardinality: .manyToMany, matchingLabels: [], on: false, include: [])
        let (leftIDs, rightIDs, count) = signatures(left, right, matching)
        var leftOut = left.map { BatchSeries(labels: $0.labels, dropsName: $0.dropsName, values: $0.values, present: Array(repeating: false, count: steps.count)) }
        var rightOut = binary.op == .or
            ? right.map { BatchSeries(labels: $0.labels, dropsName: $0.dropsName, values: $0.values, present: Array(repeating: false, count: steps.count)) }
            : []
        var rightStamp = [Int](repeating: -1, count: count)
        var leftStamp = [Int](repeating: -1, count: count)
        for k in steps.indices {
            for (index, series) in right.enumerated() where series.present[k] { rightStamp[rightIDs[index]] = k }
            for (index, series) in left.enumerated() where series.present[k] {
                leftStamp[leftIDs[index]] = k
                let matched = rightStamp[leftIDs[index]] == k
                switch binary.op {
                case .and: leftOut[index].present[k] = matched
                case .unless: leftOut[index].present[k] = !matched
                default: leftOut[index].present[k] = true
                }
            }
            if binary.op == .or {
                for (index, series) in right.enumerated() where series.present[k] {
                    rightOut[index].present[k] = leftStamp[rightIDs[index]] != k
                }
            }
        }
        return (leftOut + rightOut).filter { $0.present.contains(true) }
    }

    private struct SeriesKey: Hashable {
        var labels: Labels
        var dropsName: Bool
    }

    /// Arithmetic and comparisons between vectors, one-to-one or with `group_left/right`, as
    /// ``BinaryOperators/vectorVector(_:_:_:)`` at every step, with match groups, result labels
    /// and output series worked out once per series (pair).
    private func vectorVector(_ binary: BinaryExpr, _ left: [BatchSeries], _ right: [BatchSeries]) throws(PromQLError) -> [BatchSeries] {
        let matching = binary.matching ?? VectorMatching(cardinality: .oneToOne, matchingLabels: [], on: false, include: [])
        let flipped = matching.cardinality == .oneToMany
        let many = flipped ? right : left
        let one = flipped ? left : right
        let (leftIDs, rightIDs, count) = signatures(left, right, matching)
        let manyIDs = flipped ? rightIDs : leftIDs
        let oneIDs = flipped ? leftIDs : rightIDs
        let dropsName = !binary.op.isComparison || binary.returnBool
        var partnerOf = [Int](repeating: -1, count: count)
        var partnerStamp = [Int](repeating: -1, count: count)
        var matchedStamp = [Int](repeating: -1, count: count)
        var outIndex: [SeriesKey: Int] = [:]
        var out: [BatchSeries] = []
        var checkID: [Int] = []
        var checkIDs: [Labels: Int] = [:]
        var checkStamp: [Int] = []
        var pairOutput: [Int: Int] = [:]
        for k in steps.indices {
            if k & 63 == 63 { try context.check() }
            for (index, series) in one.enumerated() where series.present[k] {
                let id = oneIDs[index]
                if partnerStamp[id] == k {
                    let side = flipped ? "left" : "right"
                    let key = BinaryOperators.signature(series.labels, matching)
                    throw PromQLError(code: .execution, message: "found duplicate series for the match group \(key.braced) on the \(side) hand-side of the operation: [\(one[partnerOf[id]].labels.braced), \(series.labels.braced)];many-to-many matching not allowed: matching labels must be unique on one side")
                }
                partnerStamp[id] = k
                partnerOf[id] = index
            }
            for (index, element) in many.enumerated() where element.present[k] {
                let id = manyIDs[index]
                guard partnerStamp[id] == k else { continue }
                let partnerIndex = partnerOf[id]
                let partner = one[partnerIndex]
                if matching.cardinality == .oneToOne {
                    if matchedStamp[id] == k {
                        throw PromQLError(code: .execution, message: "multiple matches for labels: many-to-one matching must be explicit (group_left/group_right)")
                    }
                    matchedStamp[id] = k
                }
                let (a, b) = flipped ? (partner.values[k], element.values[k]) : (element.values[k], partner.values[k])
                var value: Double
                if binary.op.isComparison {
                    let holds = BinaryOperators.compute(binary.op, a, b) != nil
                    if !binary.returnBool && !holds { continue }
                    value = binary.returnBool ? (holds ? 1 : 0) : a
                    if !binary.returnBool && flipped { value = partner.values[k] }
                } else {
                    guard let computed = BinaryOperators.compute(binary.op, a, b) else { continue }
                    value = computed
                }
                let pair = index &* one.count &+ partnerIndex
                let position: Int
                if let cached = pairOutput[pair] {
                    position = cached
                } else {
                    let labels = BinaryOperators.result(element.labels, partner.labels, matching)
                    let key = SeriesKey(labels: labels, dropsName: dropsName || element.dropsName)
                    if let existing = outIndex[key] {
                        position = existing
                    } else {
                        position = out.count
                        outIndex[key] = position
                        out.append(BatchSeries(labels: labels, dropsName: key.dropsName, values: Array(repeating: 0, count: steps.count), present: Array(repeating: false, count: steps.count)))
                        let check = dropsName ? dropName(labels) : labels
                        if let id = checkIDs[check] {
                            checkID.append(id)
                        } else {
                            checkIDs[check] = checkStamp.count
                            checkID.append(checkStamp.count)
                            checkStamp.append(-1)
                        }
                    }
                    pairOutput[pair] = position
                }
                if checkStamp[checkID[position]] == k {
                    throw PromQLError(code: .execution, message: "multiple matches for labels: grouping labels must ensure unique matches")
                }
                checkStamp[checkID[position]] = k
                out[position].values[k] = value
                out[position].present[k] = true
            }
        }
        return out
    }

    private func vectorScalar(_ binary: BinaryExpr, _ vector: [BatchSeries], _ scalars: [Double], scalarOnLeft: Bool) -> [BatchSeries] {
        var out: [BatchSeries] = []
        out.reserveCapacity(vector.count)
        for series in vector {
            var result = series
            result.dropsName = binary.op.isComparison && !binary.returnBool ? series.dropsName : true
            var any = false
            for k in steps.indices where series.present[k] {
                let (a, b) = scalarOnLeft ? (scalars[k], series.values[k]) : (series.values[k], scalars[k])
                if binary.op.isComparison {
                    let holds = BinaryOperators.compute(binary.op, a, b) != nil
                    if binary.returnBool {
                        result.values[k] = holds ? 1 : 0
                    } else if !holds {
                        result.present[k] = false
                    }
                } else if let value = BinaryOperators.compute(binary.op, a, b) {
                    result.values[k] = value
                } else {
                    result.present[k] = false
                }
                any = any || result.present[k]
            }
            if any { out.append(result) }
        }
        return out
    }

    // MARK: Step-by-step fallback

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

/// The running state of `sum`, `count`, `group`, `min`, `max` or `avg` over one group at one
/// step, matching ``Aggregation/reduce(_:_:parameter:)`` bit for bit.
struct GroupAccumulator {
    var count = 0
    var sum = 0.0
    var compensation = 0.0
    var mean = 0.0
    var incremental = false

    mutating func add(_ value: Double, _ op: AggregationOp) {
        count += 1
        switch op {
        case .sum:
            (sum, compensation) = RangeFunctions.kahanSumInc(value, sum, compensation)
        case .min:
            if count == 1 || sum.isNaN || value < sum { sum = value }
        case .max:
            if count == 1 || sum.isNaN || value > sum { sum = value }
        case .avg:
            if count == 1 {
                sum = value
                return
            }
            let n = Double(count)
            if !incremental {
                let (newSum, newCompensation) = RangeFunctions.kahanSumInc(value, sum, compensation)
                if !newSum.isInfinite {
                    (sum, compensation) = (newSum, newCompensation)
                    return
                }
                incremental = true
                mean = sum / (n - 1)
                compensation /= (n - 1)
            }
            let q = (n - 1) / n
            (mean, compensation) = RangeFunctions.kahanSumInc(value / n, q * mean, q * compensation)
        default:
            break
        }
    }

    func result(_ op: AggregationOp) -> Double {
        switch op {
        case .sum: return sum.isInfinite ? sum : sum + compensation
        case .count: return Double(count)
        case .group: return 1
        case .min, .max: return sum
        case .avg:
            let n = Double(count)
            return incremental ? mean + compensation : sum / n + compensation / n
        default: return .nan
        }
    }
}
