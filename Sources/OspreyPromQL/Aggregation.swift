import Foundation
import OspreyModel
import OspreyPromQLParser

/// Aggregation operators over an instant vector (`sum by (…) (…)` and friends).
enum Aggregation {
    static func apply(
        _ aggregate: AggregateExpr, _ elements: [VectorElement], parameter: PromQLValue?, at timestampMs: Int64, context: QueryContext
    ) throws(PromQLError) -> [VectorElement] {
        guard try validate(aggregate, parameter: parameter, context: context) else { return [] }
        if [.sum, .avg, .count, .group, .min, .max].contains(aggregate.op) {
            return accumulate(aggregate, elements, at: timestampMs)
        }
        var groups: [Labels: [VectorElement]] = [:]
        var order: [Labels] = []
        let grouping = Grouping(aggregate)
        for element in elements {
            let key = grouping.labels(element.labels)
            if groups[key] == nil { order.append(key) }
            groups[key, default: []].append(element)
        }
        var out: [VectorElement] = []
        for key in order {
            guard let members = groups[key] else { continue }
            let before = out.count
            defer {
                if ![.topk, .bottomk, .limitk, .limitRatio].contains(aggregate.op) {
                    out.replaceSubrange(before..<out.count, with: propagateNameDrop(Array(out[before...]), key, members))
                }
            }
            let values = members.map(\.value)
            switch aggregate.op {
            case .sum, .avg, .count, .group, .min, .max, .stddev, .stdvar:
                out.append(element(key, reduce(aggregate.op, values, parameter: 0), timestampMs))
            case .quantile:
                out.append(element(key, reduce(.quantile, values, parameter: try scalar(parameter)), timestampMs))
            case .topk, .bottomk:
                out += try selectK(aggregate.op, try scalar(parameter), members)
            case .countValues:
                guard case .string(_, let label) = parameter else { throw PromQLError(code: .execution, message: "count_values needs a label name") }
                guard NameValidationScheme.utf8.isValidLabelName(label) else {
                    throw PromQLError(code: .execution, message: "invalid label name \"\(label)\"")
                }
                var counts: [String: Double] = [:]
                var valueOrder: [String] = []
                for value in values {
                    let text = GoFloatFormat.f(value)
                    if counts[text] == nil { valueOrder.append(text) }
                    counts[text, default: 0] += 1
                }
                for text in valueOrder {
                    var builder = LabelsBuilder(key)
                    builder.set(label, text)
                    out.append(element(builder.labels(), counts[text] ?? 0, timestampMs))
                }
            case .limitk:
                // The first k series of the group, in input order.
                out += members.prefix(Int(try scalar(parameter)))
            case .limitRatio:
                // A stable, label-hash-based sample: the same series are kept at every step.
                let ratio = Swift.max(-1, Swift.min(1, try scalar(parameter)))
                out += members.filter { member in
                    let offset = Double(member.labels.prometheusHash) / Double(UInt64.max)
                    return ratio >= 0 ? offset < ratio : offset >= 1 + ratio
                }
            }
        }
        return out
    }

    /// `sum`, `avg`, `count`, `group`, `min` and `max`: each element added to its group's
    /// accumulator in input order (the same operations as ``reduce(_:_:parameter:)`` over the
    /// group's values, without gathering them); groups in order of their first element.
    private static func accumulate(_ aggregate: AggregateExpr, _ elements: [VectorElement], at timestampMs: Int64) -> [VectorElement] {
        let grouping = Grouping(aggregate)
        var index: [Labels: Int] = [:]
        var keys: [Labels] = []
        var accumulators: [GroupAccumulator] = []
        var dropsName: [Bool] = []
        for element in elements {
            let key = grouping.labels(element.labels)
            let group: Int
            if let existing = index[key] {
                group = existing
            } else {
                group = keys.count
                index[key] = group
                keys.append(key)
                accumulators.append(GroupAccumulator())
                dropsName.append(false)
            }
            accumulators[group].add(element.value, aggregate.op)
            if element.dropsName { dropsName[group] = true }
        }
        return keys.indices.map { group in
            // A group keyed by `__name__` keeps its members' pending name removal.
            VectorElement(labels: keys[group], timestampMs: timestampMs, value: accumulators[group].result(aggregate.op), dropsName: dropsName[group] && keys[group].metricName != nil)
        }
    }

    /// Checks the parameter as Prometheus does (errors and warnings); false when the result is
    /// empty whatever the input (k < 1, ratio 0).
    static func validate(_ aggregate: AggregateExpr, parameter: PromQLValue?, context: QueryContext) throws(PromQLError) -> Bool {
        let parameterPosition = aggregate.param?.position
        switch aggregate.op {
        case .quantile:
            let phi = try scalar(parameter)
            if phi.isNaN || phi < 0 || phi > 1 {
                context.warn("quantile value should be between 0 and 1, got \(GoFloatFormat.g(phi))", at: parameterPosition)
            }
        case .topk, .bottomk, .limitk:
            let k = try scalar(parameter)
            if k.isNaN { throw PromQLError(code: .execution, message: "Parameter value is NaN") }
            if k < 1 { return false }
            if k >= 9.223372036854775807e18 { throw PromQLError(code: .execution, message: "Scalar value \(GoFloatFormat.g(k)) overflows int64") }
        case .limitRatio:
            let ratio = try scalar(parameter)
            if ratio == 0 { return false }
            if ratio.isNaN { throw PromQLError(code: .execution, message: "Ratio value is NaN") }
            if ratio > 1 { context.warn("ratio value should be between -1 and 1, got \(GoFloatFormat.g(ratio)), capping to 1", at: parameterPosition) }
            if ratio < -1 { context.warn("ratio value should be between -1 and 1, got \(GoFloatFormat.g(ratio)), capping to -1", at: parameterPosition) }
        default:
            break
        }
        return true
    }

    /// The value of a reducing aggregation over one group's values (not topk/bottomk/limit*/count_values).
    static func reduce(_ op: AggregationOp, _ values: [Double], parameter: Double) -> Double {
        switch op {
        case .sum: return RangeFunctionsBridge.sum(values)
        case .avg: return RangeFunctionsBridge.mean(values)
        case .count: return Double(values.count)
        case .group: return 1
        case .min: return values.reduce(Double.nan) { $0.isNaN || $1 < $0 ? $1 : $0 }
        case .max: return values.reduce(Double.nan) { $0.isNaN || $1 > $0 ? $1 : $0 }
        case .stddev: return RangeFunctions.variance(values).squareRoot()
        case .stdvar: return RangeFunctions.variance(values)
        case .quantile: return quantile(parameter, values)
        default: return .nan
        }
    }

    private static func element(_ labels: Labels, _ value: Double, _ timestampMs: Int64) -> VectorElement {
        VectorElement(labels: labels, timestampMs: timestampMs, value: value)
    }

    /// A group keyed by `__name__` keeps its members' pending name removal (delayed removal).
    private static func propagateNameDrop(_ elements: [VectorElement], _ key: Labels, _ members: [VectorElement]) -> [VectorElement] {
        guard key.metricName != nil, members.contains(where: \.dropsName) else { return elements }
        return elements.map { element in
            var copy = element
            copy.dropsName = true
            return copy
        }
    }

    static func scalar(_ value: PromQLValue?) throws(PromQLError) -> Double {
        guard case .scalar(_, let number) = value else { throw PromQLError(code: .execution, message: "aggregation parameter must be a scalar") }
        return number
    }

    /// An aggregation's `by`/`without` clause, resolved once for all its input series: the
    /// group key keeps only the listed labels (`by`) or drops them and the metric name
    /// (`without`).
    struct Grouping {
        /// The labels named (plus the metric name for `without`); few, so a list.
        private let names: [String]
        private let without: Bool

        init(_ aggregate: AggregateExpr) {
            without = aggregate.without
            names = aggregate.without ? aggregate.grouping + [Labels.metricNameLabel] : aggregate.grouping
        }

        /// The group key of a series with `labels`.
        func labels(_ labels: Labels) -> Labels {
            Labels(sortedUnchecked: labels.labels.filter { names.contains($0.name) != without })
        }
    }

    static func selectK(_ op: AggregationOp, _ kValue: Double, _ members: [VectorElement]) throws(PromQLError) -> [VectorElement] {
        let k = Int(kValue)
        // NaN sorts last in both directions, as in Prometheus.
        let sorted = members.sorted { a, b in
            if a.value.isNaN { return false }
            if b.value.isNaN { return true }
            return op == .topk ? a.value > b.value : a.value < b.value
        }
        return Array(sorted.prefix(k))
    }

    /// Prometheus' `quantile` (φ-quantile with linear interpolation; φ outside [0, 1] is ±Inf).
    static func quantile(_ phi: Double, _ values: [Double]) -> Double {
        if values.isEmpty || phi.isNaN { return .nan }
        if phi < 0 { return -.infinity }
        if phi > 1 { return .infinity }
        // NaN sorts first, as in Prometheus' vectorByValueHeap.
        let sorted = values.sorted { a, b in (a.isNaN && !b.isNaN) || a < b }
        let n = Double(sorted.count)
        let rank = phi * (n - 1)
        let lower = max(0, Int(floor(rank)))
        let upper = min(Int(n) - 1, lower + 1)
        let weight = rank - floor(rank)
        return sorted[lower] * (1 - weight) + sorted[upper] * weight
    }
}

/// Shared numeric helpers with the range functions.
enum RangeFunctionsBridge {
    static func sum(_ values: [Double]) -> Double { RangeFunctions.kahanSum(values) }
    static func mean(_ values: [Double]) -> Double { RangeFunctions.mean(values) }
}
