import OspreyModel
import OspreyPromQLParser

/// `info(v [, {data label matchers}])`: adds the data labels of info metrics (`target_info`
/// by default) that share the identifying labels `instance` and `job`, as Prometheus'
/// `evalInfo` does.
extension Evaluator {
    static let identifyingLabels = ["instance", "job"]

    func evaluateInfo(_ call: FunctionCall, at timestampMs: Int64) throws(PromQLError) -> PromQLValue {
        guard case .vector(let base) = try evaluate(call.args[0], at: timestampMs) else {
            throw PromQLError(code: .execution, message: "info() needs an instant vector")
        }
        // Data label matchers by name, and the matchers on the info metric's name.
        var dataMatchers: [String: [LabelMatcher]] = [:]
        var nameMatchers: [LabelMatcher] = []
        if call.args.count > 1, case .vectorSelector(let selector) = call.args[1].unwrappingParens {
            for matcher in selector.matchers {
                dataMatchers[matcher.name, default: []].append(matcher)
                if matcher.name == Labels.metricNameLabel { nameMatchers.append(matcher) }
            }
        } else {
            nameMatchers = [try Self.matcher(.equal, Labels.metricNameLabel, "target_info")]
        }
        let effectiveNames = try Self.effectiveNameMatchers(nameMatchers)
        // Info metrics themselves pass through unchanged.
        let ignored = base.map { element in effectiveNames.allSatisfy { $0.matches(element.labels.metricName ?? "") } }
        dataMatchers[Labels.metricNameLabel] = nil

        var identifying: [String: Set<String>] = [:]
        for (index, element) in base.enumerated() where !ignored[index] {
            for name in Self.identifyingLabels {
                if let value = element.labels[name], !value.isEmpty { identifying[name, default: []].insert(value) }
            }
        }
        var infoSeries: [(labels: Labels, timestampMs: Int64)] = []
        if !identifying.isEmpty {
            var matchers: [LabelMatcher] = []
            for (name, values) in identifying.sorted(by: { $0.key < $1.key }) {
                matchers.append(try Self.matcher(.regexMatch, name, values.sorted().map(Self.quoteMeta).joined(separator: "|")))
            }
            for (_, list) in dataMatchers.sorted(by: { $0.key < $1.key }) { matchers += list }
            matchers += effectiveNames
            let (at, offset) = try infoReadTime(call.args[0], timestampMs)
            let lookback = engine.lookbackDeltaMs
            for series in try SeriesData.select(engine.queryable, matchers: matchers, minMs: at - offset - lookback + 1, maxMs: at - offset, context: context) {
                if let sample = series.latest(at: at - offset, lookbackMs: lookback) {
                    infoSeries.append((series.labels, sample.timestampMs))
                }
            }
        }

        // The newest info series per (info metric name, identifying labels).
        var bySignature: [Labels: (labels: Labels, timestampMs: Int64)] = [:]
        var infoNames = Set<String>()
        for series in infoSeries {
            let name = series.labels.metricName ?? ""
            infoNames.insert(name)
            let signature = Self.signature(series.labels, infoName: name)
            if let existing = bySignature[signature] {
                if existing.timestampMs == series.timestampMs {
                    throw PromQLError(
                        code: .execution,
                        message: "found duplicate series for info metric: existing \(existing.labels.braced) @ \(existing.timestampMs), new \(series.labels.braced) @ \(series.timestampMs)"
                    )
                }
                if existing.timestampMs > series.timestampMs { continue }
            }
            bySignature[signature] = series
        }

        let allMatchEmpty = dataMatchers.values.allSatisfy { $0.allSatisfy { $0.matches("") } }
        var out: [VectorElement] = []
        for (index, element) in base.enumerated() {
            if ignored[index] {
                out.append(element)
                continue
            }
            var added: [String: String] = [:]
            var matchedAny = false
            for infoName in infoNames.sorted() {
                guard let info = bySignature[Self.signature(element.labels, infoName: infoName)] else { continue }
                matchedAny = true
                for label in info.labels where label.name != Labels.metricNameLabel {
                    if !dataMatchers.isEmpty && dataMatchers[label.name] == nil { continue }
                    if let value = added[label.name], value != label.value {
                        throw PromQLError(code: .execution, message: "conflicting label: \(label.name)")
                    }
                    if element.labels[label.name] != nil { continue }
                    added[label.name] = label.value
                }
            }
            if !matchedAny && !allMatchEmpty { continue }
            var builder = LabelsBuilder(element.labels)
            for (name, value) in added { builder.set(name, value) }
            var enriched = element
            enriched.labels = builder.labels()
            out.append(enriched)
        }
        return .vector(out)
    }

    /// Where info series are read, as Prometheus' `infoSelectTimestampAndOffset`: at the `@` time
    /// and `offset` of the first selector of the base expression; without an `@` there, the
    /// offsets of the enclosing subqueries are added until one has an `@`.
    private func infoReadTime(_ expr: Expr, _ timestampMs: Int64) throws(PromQLError) -> (Int64, Int64) {
        var subqueries: [SubqueryExpr] = []
        guard let selector = Self.firstSelector(expr, through: &subqueries) else { return (timestampMs, 0) }
        var at = selector.at
        var offset = try selector.offset.map(milliseconds) ?? 0
        for subquery in subqueries.reversed() where at == nil {
            offset += try subquery.offset.map(milliseconds) ?? 0
            at = subquery.at
        }
        switch at {
        case .timestamp(let ms)?: return (ms, offset)
        case .start?: return (startMs, offset)
        case .end?: return (endMs, offset)
        case nil: return (timestampMs, offset)
        }
    }

    /// The first selector in `expr` (depth first) and the subqueries around it, outermost first.
    private static func firstSelector(_ expr: Expr, through subqueries: inout [SubqueryExpr]) -> VectorSelector? {
        switch expr {
        case .vectorSelector(let selector): return selector
        case .matrixSelector(let matrix): return matrix.selector
        case .subquery(let subquery):
            subqueries.append(subquery)
            if let found = firstSelector(subquery.expr, through: &subqueries) { return found }
            subqueries.removeLast()
            return nil
        case .paren(let inner, _), .unaryMinus(let inner, _): return firstSelector(inner, through: &subqueries)
        case .call(let call):
            for argument in call.args { if let found = firstSelector(argument, through: &subqueries) { return found } }
            return nil
        case .aggregate(let aggregate):
            if let param = aggregate.param, let found = firstSelector(param, through: &subqueries) { return found }
            return firstSelector(aggregate.expr, through: &subqueries)
        case .binary(let binary):
            return firstSelector(binary.lhs, through: &subqueries) ?? firstSelector(binary.rhs, through: &subqueries)
        case .number, .string: return nil
        }
    }

    /// Prometheus' `effectiveInfoNameMatchers`.
    private static func effectiveNameMatchers(_ matchers: [LabelMatcher]) throws(PromQLError) -> [LabelMatcher] {
        if matchers.contains(where: { $0.type == .equal || $0.type == .regexMatch }) { return matchers }
        if !matchers.isEmpty { return [try matcher(.regexMatch, Labels.metricNameLabel, ".+_info")] + matchers }
        return [try matcher(.equal, Labels.metricNameLabel, "target_info")]
    }

    /// The info metric's name and the identifying labels of `labels`.
    private static func signature(_ labels: Labels, infoName: String) -> Labels {
        var values = [Labels.metricNameLabel: infoName]
        for name in identifyingLabels { if let value = labels[name] { values[name] = value } }
        return Labels(values)
    }

    private static func matcher(_ type: MatchType, _ name: String, _ value: String) throws(PromQLError) -> LabelMatcher {
        do {
            return try LabelMatcher(type, name, value)
        } catch {
            throw PromQLError(code: .execution, message: "\(error)")
        }
    }

    /// Go's `regexp.QuoteMeta`.
    static func quoteMeta(_ text: String) -> String {
        var out = ""
        for character in text {
            if "\\.+*?()|[]{}^$".contains(character) { out.append("\\") }
            out.append(character)
        }
        return out
    }
}
