package import OspreyModel
package import OspreyPromQLParser
package import OspreyStorage

/// Evaluates parsed PromQL over the storage querier contract.
///
/// Evaluates selectors (lookback, staleness, `offset`, `@`), subqueries, aggregations, binary
/// operators with vector matching and most functions; what it does not evaluate yet throws
/// `.unsupported` naming it. Selector data is read once per query and shared by all steps.
package struct PromQLEngine: Sendable {
    /// Where data comes from.
    package let queryable: any MetricQueryable
    /// How far back an instant selector looks for a sample (Prometheus' default 5m).
    package var lookbackDeltaMs: Int64 = 300_000
    /// Whether range functions may stream their series (decoded a series at a time, never
    /// held); off, every selector is decoded and kept, which tests use as the reference.
    package var streamsSeries = true

    /// An engine over `queryable`.
    package init(queryable: any MetricQueryable) {
        self.queryable = queryable
    }

    /// An instant query at `timestampMs`.
    package func instantQuery(_ expr: Expr, atMs timestampMs: Int64, context: QueryContext = QueryContext()) throws(PromQLError) -> PromQLValue {
        try prepareInstantQuery(expr, atMs: timestampMs, context: context).evaluate()
    }

    /// An instant query with its series selected (index work only), to be evaluated.
    package func prepareInstantQuery(_ expr: Expr, atMs timestampMs: Int64, context: QueryContext = QueryContext()) throws(PromQLError) -> PreparedQuery<PromQLValue> {
        let evaluator = try Evaluator(engine: self, context: context, expr: expr, startMs: timestampMs, endMs: timestampMs, stepMs: 1)
        return PreparedQuery(estimatedSamples: evaluator.estimatedSamples(steps: 1)) { () throws(PromQLError) in
            let value = try evaluator.evaluate(expr, at: timestampMs)
            if case .vector(let elements) = value { return .vector(try finalizeNames(elements)) }
            return value
        }
    }

    /// A range query: the expression at `startMs, startMs+stepMs, … ≤ endMs`, as a matrix.
    package func rangeQuery(_ expr: Expr, startMs: Int64, endMs: Int64, stepMs: Int64, context: QueryContext = QueryContext()) throws(PromQLError) -> [SeriesPoints] {
        try prepareRangeQuery(expr, startMs: startMs, endMs: endMs, stepMs: stepMs, context: context).evaluate()
    }

    /// A range query with its series selected (index work only), to be evaluated.
    package func prepareRangeQuery(
        _ expr: Expr, startMs: Int64, endMs: Int64, stepMs: Int64, context: QueryContext = QueryContext()
    ) throws(PromQLError) -> PreparedQuery<[SeriesPoints]> {
        guard stepMs > 0 else { throw PromQLError(code: .execution, message: "zero or negative query resolution step widths are not accepted") }
        guard expr.type == .scalar || expr.type == .vector else {
            throw PromQLError(code: .execution, message: "invalid expression type \"\(expr.type.rawValue)\" for range query, must be Scalar or instant Vector")
        }
        let evaluator = try Evaluator(engine: self, context: context, expr: expr, startMs: startMs, endMs: endMs, stepMs: stepMs)
        let stepCount = Int((endMs - startMs) / stepMs) + 1
        return PreparedQuery(estimatedSamples: evaluator.estimatedSamples(steps: stepCount)) { () throws(PromQLError) in
            try evaluateRange(evaluator, expr, startMs: startMs, endMs: endMs, stepMs: stepMs, context: context)
        }
    }

    private func evaluateRange(_ evaluator: Evaluator, _ expr: Expr, startMs: Int64, endMs: Int64, stepMs: Int64, context: QueryContext) throws(PromQLError) -> [SeriesPoints] {
        var steps: [Int64] = []
        var timestamp = startMs
        while timestamp <= endMs {
            steps.append(timestamp)
            timestamp += stepMs
        }
        switch try BatchEvaluator(evaluator, steps: steps).evaluate(expr) {
        case .scalar(let values):
            try context.hold(values.count)
            return [SeriesPoints(labels: .empty, points: zip(steps, values).map { Sample(timestampMs: $0, value: $1) })]
        case .vector(let series):
            return try finalizeSeries(series, steps: steps, context: context)
        }
    }

    /// The matrix of a range query: names marked for removal removed, series that now share
    /// labels merged (an error where both have a point at the same step), sorted by labels.
    private func finalizeSeries(_ series: [BatchSeries], steps: [Int64], context: QueryContext) throws(PromQLError) -> [SeriesPoints] {
        var index: [Labels: Int] = [:]
        var merged: [(labels: Labels, values: [Double], present: [Bool])] = []
        for one in series {
            let labels = one.dropsName ? dropName(one.labels) : one.labels
            if let position = index[labels] {
                for k in steps.indices where one.present[k] {
                    if merged[position].present[k] {
                        throw PromQLError(code: .execution, message: "vector cannot contain metrics with the same labelset")
                    }
                    merged[position].values[k] = one.values[k]
                    merged[position].present[k] = true
                }
            } else {
                index[labels] = merged.count
                merged.append((labels, one.values, one.present))
            }
        }
        var out: [SeriesPoints] = []
        out.reserveCapacity(merged.count)
        for one in merged {
            var points: [Sample] = []
            for k in steps.indices where one.present[k] { points.append(Sample(timestampMs: steps[k], value: one.values[k])) }
            try context.hold(points.count)
            if !points.isEmpty { out.append(SeriesPoints(labels: one.labels, points: points)) }
        }
        return out.sorted { $0.labels < $1.labels }
    }
}

/// A query whose series are selected: what is left is evaluation, whose size the selection
/// lets one guess before deciding where to run it.
package struct PreparedQuery<Value: Sendable>: Sendable {
    /// A rough upper bound of the samples the evaluation will touch (series × samples in
    /// their windows, assuming scrapes no denser than every 10 s, plus series × steps).
    package let estimatedSamples: Int
    private let body: @Sendable () throws(PromQLError) -> Value

    init(estimatedSamples: Int, _ body: @escaping @Sendable () throws(PromQLError) -> Value) {
        self.estimatedSamples = estimatedSamples
        self.body = body
    }

    /// Evaluates the query.
    package func evaluate() throws(PromQLError) -> Value {
        try body()
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
