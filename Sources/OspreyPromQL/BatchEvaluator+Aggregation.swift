import OspreyModel
import OspreyPromQLParser

/// Aggregations over all steps: groups worked out once per series.
extension BatchEvaluator {
    func evaluateAggregate(_ aggregate: AggregateExpr) throws(PromQLError) -> BatchValue? {
        let reducing: Set<AggregationOp> = [.sum, .avg, .count, .group, .min, .max, .stddev, .stdvar, .quantile]
        guard reducing.contains(aggregate.op) || aggregate.op == .topk || aggregate.op == .bottomk else { return nil }
        if let fused = try fusedRangeAggregate(aggregate) { return fused }
        var parameters: [Double]?
        if let param = aggregate.param {
            guard case .scalar(let values) = try evaluate(param) else { return nil }
            parameters = values
        }
        guard case .vector(let input) = try evaluate(aggregate.expr) else { return nil }
        var groupIndex: [Labels: Int] = [:]
        var groupLabels: [Labels] = []
        var members: [[Int]] = []
        let grouping = Aggregation.Grouping(aggregate)
        for (index, series) in input.enumerated() {
            let key = grouping.labels(series.labels)
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
}

/// The running state of `sum`, `count`, `group`, `min`, `max` or `avg` over one group at one
/// step; also the algorithm of `avg_over_time` (``RangeFunctions/mean(_:)``).
struct GroupAccumulator {
    var count = 0
    var sum = 0.0
    var compensation = 0.0
    var mean = 0.0
    var incremental = false

    @inline(__always)
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
