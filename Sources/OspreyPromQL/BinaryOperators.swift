import Foundation
import OspreyModel
import OspreyPromQLParser

/// Binary operators between scalars and instant vectors, with Prometheus' vector matching.
enum BinaryOperators {
    /// `op` on two numbers; for comparisons 1/0, or nil when the comparison is false.
    static func compute(_ op: BinaryOp, _ lhs: Double, _ rhs: Double) -> Double? {
        switch op {
        case .add: return lhs + rhs
        case .sub: return lhs - rhs
        case .mul: return lhs * rhs
        case .div: return lhs / rhs
        case .mod: return fmod(lhs, rhs)
        case .pow: return Foundation.pow(lhs, rhs)
        case .atan2: return Foundation.atan2(lhs, rhs)
        case .eql: return lhs == rhs ? 1 : nil
        case .neq: return lhs != rhs ? 1 : nil
        case .gtr: return lhs > rhs ? 1 : nil
        case .lss: return lhs < rhs ? 1 : nil
        case .gte: return lhs >= rhs ? 1 : nil
        case .lte: return lhs <= rhs ? 1 : nil
        case .and, .or, .unless: return nil
        }
    }

    static func scalarScalar(_ binary: BinaryExpr, _ lhs: Double, _ rhs: Double) -> Double {
        if binary.op.isComparison { return compute(binary.op, lhs, rhs) == nil ? 0 : 1 }
        return compute(binary.op, lhs, rhs) ?? .nan
    }

    /// Vector–scalar (or scalar–vector when `scalarOnLeft`).
    static func vectorScalar(_ binary: BinaryExpr, _ vector: [VectorElement], _ scalar: Double, scalarOnLeft: Bool) throws(PromQLError) -> [VectorElement] {
        var out: [VectorElement] = []
        for element in vector {
            let (a, b) = scalarOnLeft ? (scalar, element.value) : (element.value, scalar)
            if binary.op.isComparison {
                let holds = compute(binary.op, a, b) != nil
                if binary.returnBool {
                    out.append(VectorElement(labels: element.labels, timestampMs: element.timestampMs, value: holds ? 1 : 0, dropsName: true))
                } else if holds {
                    out.append(element)
                }
            } else if let value = compute(binary.op, a, b) {
                out.append(VectorElement(labels: element.labels, timestampMs: element.timestampMs, value: value, dropsName: true))
            }
        }
        return out
    }

    /// The labels two series are matched on.
    static func signature(_ labels: Labels, _ matching: VectorMatching) -> Labels {
        if matching.on {
            let kept = Set(matching.matchingLabels)
            return Labels(sortedUnchecked: labels.filter { kept.contains($0.name) })
        }
        var dropped = Set(matching.matchingLabels)
        dropped.insert(Labels.metricNameLabel)
        return Labels(sortedUnchecked: labels.filter { !dropped.contains($0.name) })
    }

    /// Set operators `and`, `or`, `unless`.
    static func setOperation(_ binary: BinaryExpr, _ lhs: [VectorElement], _ rhs: [VectorElement]) -> [VectorElement] {
        let matching = binary.matching ?? VectorMatching(cardinality: .manyToMany, matchingLabels: [], on: false, include: [])
        let rightSignatures = Set(rhs.map { signature($0.labels, matching) })
        switch binary.op {
        case .and: return lhs.filter { rightSignatures.contains(signature($0.labels, matching)) }
        case .unless: return lhs.filter { !rightSignatures.contains(signature($0.labels, matching)) }
        default:
            let leftSignatures = Set(lhs.map { signature($0.labels, matching) })
            return lhs + rhs.filter { !leftSignatures.contains(signature($0.labels, matching)) }
        }
    }

    /// Arithmetic and comparison between two vectors, one-to-one or with `group_left/right`.
    static func vectorVector(_ binary: BinaryExpr, _ lhs: [VectorElement], _ rhs: [VectorElement]) throws(PromQLError) -> [VectorElement] {
        let matching = binary.matching ?? VectorMatching(cardinality: .oneToOne, matchingLabels: [], on: false, include: [])
        let flipped = matching.cardinality == .oneToMany
        let many = flipped ? rhs : lhs
        let one = flipped ? lhs : rhs
        var oneBySignature: [Labels: VectorElement] = [:]
        for element in one {
            let key = signature(element.labels, matching)
            if let existing = oneBySignature[key] {
                let side = flipped ? "left" : "right"
                throw PromQLError(code: .execution, message: "found duplicate series for the match group \(key.braced) on the \(side) hand-side of the operation: [\(existing.labels.braced), \(element.labels.braced)];many-to-many matching not allowed: matching labels must be unique on one side")
            }
            oneBySignature[key] = element
        }
        var out: [VectorElement] = []
        var seenOneToOne = Set<Labels>()
        var resultLabels = Set<Labels>()
        let dropsName = !binary.op.isComparison || binary.returnBool
        for element in many {
            let key = signature(element.labels, matching)
            guard let partner = oneBySignature[key] else { continue }
            if matching.cardinality == .oneToOne && !seenOneToOne.insert(key).inserted {
                throw PromQLError(code: .execution, message: "multiple matches for labels: many-to-one matching must be explicit (group_left/group_right)")
            }
            let (a, b) = flipped ? (partner.value, element.value) : (element.value, partner.value)
            var value: Double
            if binary.op.isComparison {
                let holds = compute(binary.op, a, b) != nil
                if !binary.returnBool && !holds { continue }
                value = binary.returnBool ? (holds ? 1 : 0) : a
                if !binary.returnBool && flipped { value = partner.value }
            } else {
                guard let computed = compute(binary.op, a, b) else { continue }
                value = computed
            }
            let labels = result(element.labels, partner.labels, matching)
            if !resultLabels.insert(dropsName ? dropName(labels) : labels).inserted {
                throw PromQLError(code: .execution, message: "multiple matches for labels: grouping labels must ensure unique matches")
            }
            out.append(VectorElement(labels: labels, timestampMs: element.timestampMs, value: value, dropsName: dropsName || element.dropsName))
        }
        return out
    }

    /// Prometheus' `resultMetric`.
    static func result(_ manySide: Labels, _ oneSide: Labels, _ matching: VectorMatching) -> Labels {
        var builder = LabelsBuilder(manySide)
        if matching.cardinality == .oneToOne {
            if matching.on {
                let kept = Set(matching.matchingLabels)
                for label in manySide where !kept.contains(label.name) { builder.set(label.name, "") }
            } else {
                for name in matching.matchingLabels { builder.set(name, "") }
            }
        }
        for name in matching.include {
            builder.set(name, oneSide[name] ?? "")
        }
        return builder.labels()
    }
}
