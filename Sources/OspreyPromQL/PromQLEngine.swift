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

    /// An engine over `queryable`.
    package init(queryable: any MetricQueryable) {
        self.queryable = queryable
    }

    /// An instant query at `timestampMs`.
    package func instantQuery(_ expr: Expr, atMs timestampMs: Int64, context: QueryContext = QueryContext()) throws(PromQLError) -> PromQLValue {
        let evaluator = try Evaluator(engine: self, context: context, expr: expr, startMs: timestampMs, endMs: timestampMs, stepMs: 1)
        let value = try evaluator.evaluate(expr, at: timestampMs)
        if case .vector(let elements) = value { return .vector(try finalizeNames(elements)) }
        return value
    }

    /// A range query: the expression at `startMs, startMs+stepMs, … ≤ endMs`, as a matrix.
    package func rangeQuery(_ expr: Expr, startMs: Int64, endMs: Int64, stepMs: Int64, context: QueryContext = QueryContext()) throws(PromQLError) -> [SeriesPoints] {
        guard stepMs > 0 else { throw PromQLError(code: .execution, message: "zero or negative query resolution step widths are not accepted") }
        guard expr.type == .scalar || expr.type == .vector else {
            throw PromQLError(code: .execution, message: "invalid expression type \"\(expr.type.rawValue)\" for range query, must be Scalar or instant Vector")
        }
        let evaluator = try Evaluator(engine: self, context: context, expr: expr, startMs: startMs, endMs: endMs, stepMs: stepMs)
        var series: [Labels: [Sample]] = [:]
        var timestamp = startMs
        while timestamp <= endMs {
            try context.check()
            switch try evaluator.evaluate(expr, at: timestamp) {
            case .scalar(_, let value):
                try context.hold(1)
                series[.empty, default: []].append(Sample(timestampMs: timestamp, value: value))
            case .vector(let elements):
                try context.hold(elements.count)
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
