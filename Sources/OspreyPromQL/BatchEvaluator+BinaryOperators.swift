import OspreyModel
import OspreyPromQLParser

/// Binary operators over all steps: match groups and result labels worked out once per series.
extension BatchEvaluator {
    func evaluateBinary(_ binary: BinaryExpr) throws(PromQLError) -> BatchValue {
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
        var lastPartner = [Int](repeating: -1, count: many.count)
        var lastPosition = [Int](repeating: -1, count: many.count)
        for k in steps.indices {
            if k & 63 == 63 { try context.check() }
            // Series are read in place by index (never copied per step).
            for index in one.indices where one[index].present[k] {
                let id = oneIDs[index]
                if partnerStamp[id] == k {
                    let side = flipped ? "left" : "right"
                    let key = BinaryOperators.signature(one[index].labels, matching)
                    throw PromQLError(code: .execution, message: "found duplicate series for the match group \(key.braced) on the \(side) hand-side of the operation: [\(one[partnerOf[id]].labels.braced), \(one[index].labels.braced)];many-to-many matching not allowed: matching labels must be unique on one side")
                }
                partnerStamp[id] = k
                partnerOf[id] = index
            }
            for index in many.indices where many[index].present[k] {
                let id = manyIDs[index]
                guard partnerStamp[id] == k else { continue }
                let partnerIndex = partnerOf[id]
                if matching.cardinality == .oneToOne {
                    if matchedStamp[id] == k {
                        throw PromQLError(code: .execution, message: "multiple matches for labels: many-to-one matching must be explicit (group_left/group_right)")
                    }
                    matchedStamp[id] = k
                }
                let own = many[index].values[k]
                let other = one[partnerIndex].values[k]
                let (a, b) = flipped ? (other, own) : (own, other)
                var value: Double
                if binary.op.isComparison {
                    let holds = BinaryOperators.compute(binary.op, a, b) != nil
                    if !binary.returnBool && !holds { continue }
                    value = binary.returnBool ? (holds ? 1 : 0) : a
                    if !binary.returnBool && flipped { value = other }
                } else {
                    guard let computed = BinaryOperators.compute(binary.op, a, b) else { continue }
                    value = computed
                }
                let position: Int
                if lastPartner[index] == partnerIndex {
                    // A series mostly meets the same partner at every step.
                    position = lastPosition[index]
                } else if let cached = pairOutput[index &* one.count &+ partnerIndex] {
                    position = cached
                } else {
                    let labels = BinaryOperators.result(many[index].labels, one[partnerIndex].labels, matching)
                    let key = SeriesKey(labels: labels, dropsName: dropsName || many[index].dropsName)
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
                    pairOutput[index &* one.count &+ partnerIndex] = position
                }
                lastPartner[index] = partnerIndex
                lastPosition[index] = position
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
}
