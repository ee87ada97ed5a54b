import OspreyModel
import OspreyPromQLParser
import OspreyStorage

/// Range functions over range selectors over all steps. Each series' samples are read once
/// (streamed from storage into a per-worker buffer unless another node decoded them already)
/// and its window slides along the steps. A `sum`, `count`, `group`, `min` or `max` directly
/// over such a function folds every series into its group as it goes, so no per-series result
/// is held at all.
extension BatchEvaluator {
    /// A range function over a range selector, resolved for all steps.
    struct RangeFunctionPlan {
        let kind: RangeFunctions.Kind
        let selected: SelectedSeries
        /// The window's end at every step (after `@` and `offset`); never decreasing.
        let ends: [Int64]
        let rangeMs: Int64
        let dropsName: Bool
        /// The selector argument, for annotation positions.
        let argument: Expr

        /// `rate` and `increase` note series whose name does not look like a counter's.
        var checksCounter: Bool { kind == .rate || kind == .increase }
    }

    /// The plan of `call` when it is a range function over a range selector.
    func rangeFunctionPlan(_ call: FunctionCall) throws(PromQLError) -> RangeFunctionPlan? {
        guard call.args.count == 1, case .matrixSelector(let matrix) = call.args[0].unwrappingParens,
              let kind = RangeFunctions.Kind(rawValue: call.function.name), let selected = inner.data[matrix.selector]
        else { return nil }
        return RangeFunctionPlan(
            kind: kind, selected: selected, ends: try steps.map { (t) throws(PromQLError) in try inner.readTime(matrix.selector, t) },
            rangeMs: try inner.milliseconds(matrix.range), dropsName: !RangeFunctions.keepingName.contains(call.function.name), argument: call.args[0]
        )
    }

    /// One output series per input series with a value at some step.
    func rangeFunction(_ plan: RangeFunctionPlan) throws(PromQLError) -> [BatchSeries] {
        let selected = plan.selected
        if !selected.claimStream() { _ = try selected.series(context) }
        let count = selected.stored.count
        var results = [BatchSeries?](repeating: nil, count: count)
        let states = results.withUnsafeMutableBufferPointer { buffer in
            nonisolated(unsafe) let out = buffer
            let workers = Self.streamWorkers(count, plan)
            return SelectedSeries.parallelBlocks(count, workers: workers, context: context, initial: StreamState()) { state, index in
                state.loaded += selected.samples(of: index, into: &state.samples)
                state.peak = max(state.peak, state.samples.count)
                var values = [Double](repeating: 0, count: plan.ends.count)
                var present = [Bool](repeating: false, count: plan.ends.count)
                var any = false
                state.samples.withUnsafeBufferPointer { samples in
                    Self.forEachValue(plan, samples) { k, value in
                        values[k] = value
                        present[k] = true
                        any = true
                    }
                }
                if any { out[index] = BatchSeries(labels: selected.labels[index], dropsName: plan.dropsName, values: values, present: present) }
            }
        }
        try context.check()
        try context.streamed(states)
        var out: [BatchSeries] = []
        out.reserveCapacity(count)
        var lastName: String?
        for case let series? in results {
            noteCounter(plan, series.labels, unlessNamed: &lastName)
            out.append(series)
        }
        return out
    }

    /// `op by/without (…) (plan)` without per-series results, for the aggregations whose
    /// partial results merge (`sum`, `count`, `group`, `min`, `max`); nil when `aggregate` is
    /// not of that shape, or when per-worker partial results would take more memory than the
    /// series they replace.
    func fusedRangeAggregate(_ aggregate: AggregateExpr) throws(PromQLError) -> BatchValue? {
        let op = aggregate.op
        guard [.sum, .count, .group, .min, .max].contains(op), aggregate.param == nil,
              case .call(let call) = aggregate.expr.unwrappingParens, let plan = try rangeFunctionPlan(call), plan.selected.canStream
        else { return nil }
        let selected = plan.selected
        let count = selected.stored.count
        var groupIndex: [Labels: Int] = [:]
        var groupLabels: [Labels] = []
        var groupOf: [Int] = []
        groupOf.reserveCapacity(count)
        let grouping = Aggregation.Grouping(aggregate)
        for labels in selected.labels {
            let key = grouping.labels(labels)
            if let position = groupIndex[key] {
                groupOf.append(position)
            } else {
                groupIndex[key] = groupLabels.count
                groupOf.append(groupLabels.count)
                groupLabels.append(key)
            }
        }
        let stepCount = steps.count
        let workers = Self.streamWorkers(count, plan)
        // With enough groups, each worker folds whole groups (series in their order, into one
        // shared table: the same sums as one thread); else each folds a block of series into
        // its own table, merged in block order.
        let byGroup = workers > 1 && groupLabels.count >= workers * 4
        guard workers == 1 || byGroup || groupLabels.count * workers <= count,
              groupLabels.count * stepCount * (byGroup ? 1 : workers) <= Self.maxFusedAccumulators,
              selected.claimStream()
        else { return nil }
        var produced = [Bool](repeating: false, count: count)
        var accumulators: [GroupAccumulator]
        var states: [StreamState]
        if byGroup {
            let (order, ranges) = Self.groupOrder(groupOf, groups: groupLabels.count, workers: workers)
            accumulators = [GroupAccumulator](repeating: GroupAccumulator(), count: groupLabels.count * stepCount)
            states = produced.withUnsafeMutableBufferPointer { producedBuffer in
                accumulators.withUnsafeMutableBufferPointer { table in
                    nonisolated(unsafe) let produced = producedBuffer
                    nonisolated(unsafe) let table = table
                    return SelectedSeries.parallelRanges(ranges, context: context, initial: StreamState()) { state, position in
                        let index = order[position]
                        state.loaded += selected.samples(of: index, into: &state.samples)
                        state.peak = max(state.peak, state.samples.count)
                        let base = groupOf[index] * stepCount
                        var any = false
                        state.samples.withUnsafeBufferPointer { samples in
                            Self.forEachValue(plan, samples) { k, value in
                                table[base + k].add(value, op)
                                any = true
                            }
                        }
                        produced[index] = any
                    }
                }
            }
        } else {
            states = produced.withUnsafeMutableBufferPointer { buffer in
                nonisolated(unsafe) let produced = buffer
                var initial = StreamState()
                initial.accumulators = [GroupAccumulator](repeating: GroupAccumulator(), count: groupLabels.count * stepCount)
                return SelectedSeries.parallelBlocks(count, workers: workers, context: context, initial: initial) { state, index in
                    state.loaded += selected.samples(of: index, into: &state.samples)
                    state.peak = max(state.peak, state.samples.count)
                    let base = groupOf[index] * stepCount
                    var any = false
                    state.samples.withUnsafeBufferPointer { samples in
                        state.accumulators.withUnsafeMutableBufferPointer { accumulators in
                            Self.forEachValue(plan, samples) { k, value in
                                accumulators[base + k].add(value, op)
                                any = true
                            }
                        }
                    }
                    produced[index] = any
                }
            }
            // Workers hold contiguous blocks of series: merging their partial results in
            // worker order adds series in their order, as the per-step reduction does.
            accumulators = states[0].accumulators
            for state in states.dropFirst() {
                for position in accumulators.indices { accumulators[position].merge(state.accumulators[position], op) }
            }
        }
        try context.check()
        try context.streamed(states)
        // Groups in the order of their first series with a value, as if built from the
        // function's result.
        var firstMember = [Int](repeating: .max, count: groupLabels.count)
        for index in (0..<count).reversed() where produced[index] { firstMember[groupOf[index]] = index }
        var lastName: String?
        for index in 0..<count where produced[index] { noteCounter(plan, selected.labels[index], unlessNamed: &lastName) }
        var out: [BatchSeries] = []
        for g in groupLabels.indices.sorted(by: { firstMember[$0] < firstMember[$1] }) where firstMember[g] != .max {
            var values = [Double](repeating: 0, count: stepCount)
            var present = [Bool](repeating: false, count: stepCount)
            for k in 0..<stepCount where accumulators[g * stepCount + k].count > 0 {
                values[k] = accumulators[g * stepCount + k].result(op)
                present[k] = true
            }
            out.append(BatchSeries(labels: groupLabels[g], dropsName: plan.dropsName && groupLabels[g].metricName != nil, values: values, present: present))
        }
        return .vector(out)
    }

    /// Threads for streaming `count` series through `plan`: one series over one step (an
    /// instant query) is too little work to wake a thread for below a few thousand series;
    /// over many steps, a few series are enough.
    static func streamWorkers(_ count: Int, _ plan: RangeFunctionPlan) -> Int {
        if plan.ends.count == 1 && count < 2048 { return 1 }
        return SelectedSeries.workers(for: count, heavy: plan.ends.count >= 256)
    }

    /// Series positions ordered by group (series order within a group), and that order cut
    /// into one contiguous range per worker at group boundaries, balanced by series count.
    static func groupOrder(_ groupOf: [Int], groups: Int, workers: Int) -> (order: [Int], ranges: [Range<Int>]) {
        var starts = [Int](repeating: 0, count: groups + 1)
        for group in groupOf { starts[group + 1] += 1 }
        for group in 0..<groups { starts[group + 1] += starts[group] }
        var next = starts
        var order = [Int](repeating: 0, count: groupOf.count)
        for (index, group) in groupOf.enumerated() {
            order[next[group]] = index
            next[group] += 1
        }
        var ranges: [Range<Int>] = []
        var lower = 0
        var group = 0
        for worker in 1...workers {
            let target = groupOf.count * worker / workers
            while group < groups && starts[group + 1] <= target { group += 1 }
            let upper = worker == workers ? groupOf.count : starts[group]
            if upper > lower {
                ranges.append(lower..<upper)
                lower = upper
            }
        }
        return (order, ranges.isEmpty ? [0..<groupOf.count] : ranges)
    }

    /// Partial results of a fused aggregation held at once (over all workers) at most:
    /// 64 MiB of accumulators.
    static var maxFusedAccumulators: Int { (64 << 20) / MemoryLayout<GroupAccumulator>.stride }

    /// A worker's state while streaming series.
    struct StreamState {
        /// The current series' samples (capacity reused from series to series).
        var samples: [Sample] = []
        /// Samples read from storage.
        var loaded = 0
        /// The most samples held for one series.
        var peak = 0
        /// Per group and step, for fused aggregations.
        var accumulators: [GroupAccumulator] = []
    }

    /// Calls `body(k, value)` for every step `k` at which the function has a value over
    /// `samples` (sorted, without staleness markers); the window slides, so each sample is
    /// passed over a bounded number of times.
    static func forEachValue(_ plan: RangeFunctionPlan, _ samples: UnsafeBufferPointer<Sample>, _ body: (Int, Double) -> Void) {
        switch plan.kind {
        case .maxOverTime, .minOverTime:
            slidingExtreme(plan, samples, max: plan.kind == .maxOverTime, body)
            return
        case .rate, .increase, .delta:
            slidingRate(plan, samples, body)
            return
        default:
            break
        }
        var low = 0
        var high = 0
        for k in plan.ends.indices {
            let end = plan.ends[k]
            let start = end - plan.rangeMs
            while high < samples.count && samples[high].timestampMs <= end { high += 1 }
            while low < high && samples[low].timestampMs <= start { low += 1 }
            guard low < high else { continue }
            if let value = RangeFunctions.apply(plan.kind, UnsafeBufferPointer(rebasing: samples[low..<high]), rangeStartMs: start, rangeEndMs: end, rangeMs: plan.rangeMs) {
                body(k, value)
            }
        }
    }

    /// `rate`, `increase` and `delta` over sliding windows, read in place; a window's
    /// geometry (``RangeFunctions/RateGeometry``, several divisions) is reused while its
    /// sample offsets and count repeat, as they do for regular scrapes.
    private static func slidingRate(_ plan: RangeFunctionPlan, _ samples: UnsafeBufferPointer<Sample>, _ body: (Int, Double) -> Void) {
        let isCounter = plan.kind != .delta
        let rangeSeconds: Double? = plan.kind == .rate ? Double(plan.rangeMs) / 1000 : nil
        var geometry: RangeFunctions.RateGeometry?
        var geometryKey = (toStart: Int64.min, toEnd: Int64.min, count: 0)
        var low = 0
        var high = 0
        for k in plan.ends.indices {
            let end = plan.ends[k]
            let start = end - plan.rangeMs
            while high < samples.count && samples[high].timestampMs <= end { high += 1 }
            while low < high && samples[low].timestampMs <= start { low += 1 }
            guard high - low >= 2 else { continue }
            let first = samples[low]
            let last = samples[high - 1]
            var result = last.value - first.value
            if isCounter {
                var previous = first.value
                for index in (low + 1)..<high {
                    let value = samples[index].value
                    if value < previous { result += previous }
                    previous = value
                }
            }
            let key = (toStart: first.timestampMs - start, toEnd: end - last.timestampMs, count: high - low)
            let current: RangeFunctions.RateGeometry
            if let geometry, key == geometryKey {
                current = geometry
            } else {
                current = RangeFunctions.RateGeometry(firstMs: first.timestampMs, lastMs: last.timestampMs, count: key.count, rangeStartMs: start, rangeEndMs: end, rangeSeconds: rangeSeconds)
                geometry = current
                geometryKey = key
            }
            body(k, current.extrapolate(result, firstValue: first.value, isCounter: isCounter))
        }
    }

    /// `max_over_time`/`min_over_time` over sliding windows in time linear in the samples: a
    /// queue of the window's candidates (non-NaN samples not beaten by a later one), whose
    /// front is the window's extreme. Equal values keep the earliest, and a window of NaNs
    /// only is NaN, as Prometheus' scan (`f > max || isNaN(max)`) decides.
    private static func slidingExtreme(_ plan: RangeFunctionPlan, _ samples: UnsafeBufferPointer<Sample>, max: Bool, _ body: (Int, Double) -> Void) {
        withUnsafeTemporaryAllocation(of: Int.self, capacity: Swift.max(1, samples.count)) { queue in
            var front = 0
            var back = 0
            var low = 0
            var high = 0
            for k in plan.ends.indices {
                let end = plan.ends[k]
                let start = end - plan.rangeMs
                while high < samples.count && samples[high].timestampMs <= end {
                    let value = samples[high].value
                    if !value.isNaN {
                        while back > front && (max ? samples[queue[back - 1]].value < value : samples[queue[back - 1]].value > value) { back -= 1 }
                        queue[back] = high
                        back += 1
                    }
                    high += 1
                }
                while low < high && samples[low].timestampMs <= start { low += 1 }
                while front < back && queue[front] < low { front += 1 }
                guard low < high else { continue }
                body(k, front < back ? samples[queue[front]].value : .nan)
            }
        }
    }

    /// The "might not be a counter" info for a series passed to `rate` or `increase`.
    /// Series come sorted, so by metric name: a name is checked once per run (`lastName`).
    private func noteCounter(_ plan: RangeFunctionPlan, _ labels: Labels, unlessNamed lastName: inout String?) {
        guard plan.checksCounter, let metricName = labels.metricName, metricName != lastName else { return }
        lastName = metricName
        guard !metricName.isEmpty,
              !["_total", "_sum", "_count", "_bucket"].contains(where: { metricName.hasSuffix($0) })
        else { return }
        context.info("metric might not be a counter, name does not end in _total/_sum/_count/_bucket: \"\(metricName)\"", at: plan.argument.position)
    }
}

extension GroupAccumulator {
    /// Adds the partial result of later series (`sum`, `count`, `group`, `min`, `max`).
    mutating func merge(_ later: GroupAccumulator, _ op: AggregationOp) {
        guard later.count > 0 else { return }
        guard count > 0 else {
            self = later
            return
        }
        count += later.count
        switch op {
        case .sum:
            (sum, compensation) = RangeFunctions.kahanSumInc(later.sum, sum, compensation)
            compensation += later.compensation
        case .min:
            if sum.isNaN || later.sum < sum { sum = later.sum }
        case .max:
            if sum.isNaN || later.sum > sum { sum = later.sum }
        default:
            break
        }
    }
}

extension QueryContext {
    /// Accounts for streamed series: every sample read counts as queryable, but only what the
    /// workers held at once (one series each) counts against `--query.max-samples`, as
    /// Prometheus holds one series' range at a time.
    func streamed(_ states: [BatchEvaluator.StreamState]) throws(PromQLError) {
        countQueryable(states.reduce(0) { $0 + $1.loaded })
        let heldAtOnce = states.reduce(0) { $0 + $1.peak }
        try hold(heldAtOnce)
        release(heldAtOnce)
    }
}
