import OspreyModel

extension Expr: CustomStringConvertible {
    /// The canonical PromQL text, as Prometheus' `String()` (what `/api/v1/format_query` returns).
    package var description: String {
        switch self {
        case .number(let value, _): return GoFloatFormat.g(value)
        case .string(let value, _): return goQuote(value)
        case .vectorSelector(let selector): return selector.description + modifiers(at: selector.at, offset: selector.offset)
        case .matrixSelector(let matrix):
            return matrix.selector.description + "[\(matrix.range)]" + modifiers(at: matrix.selector.at, offset: matrix.selector.offset)
        case .subquery(let subquery):
            return "\(subquery.expr)[\(subquery.range):\(subquery.step.map(\.description) ?? "")]" + modifiers(at: subquery.at, offset: subquery.offset)
        case .call(let call):
            return "\(call.function.name)(\(call.args.map(\.description).joined(separator: ", ")))"
        case .aggregate(let aggregate):
            var out = aggregate.op.rawValue
            if aggregate.without {
                out += " without (\(aggregate.grouping.map(labelName).joined(separator: ", "))) "
            } else if !aggregate.grouping.isEmpty {
                out += " by (\(aggregate.grouping.map(labelName).joined(separator: ", "))) "
            }
            let args = (aggregate.param.map { [$0.description] } ?? []) + [aggregate.expr.description]
            return out + "(" + args.joined(separator: ", ") + ")"
        case .binary(let binary):
            return "\(binary.lhs) \(binary.op.rawValue)\(binary.returnBool ? " bool" : "")\(matching(binary)) \(binary.rhs)"
        case .unaryMinus(let inner, _): return "-\(inner)"
        case .paren(let inner, _): return "(\(inner))"
        }
    }

    private func matching(_ binary: BinaryExpr) -> String {
        guard let matching = binary.matching, !matching.matchingLabels.isEmpty || matching.on else { return "" }
        var out = " \(matching.on ? "on" : "ignoring") (\(matching.matchingLabels.map(labelName).joined(separator: ", ")))"
        switch matching.cardinality {
        case .manyToOne: out += " group_left (\(matching.include.map(labelName).joined(separator: ", ")))"
        case .oneToMany: out += " group_right (\(matching.include.map(labelName).joined(separator: ", ")))"
        default: break
        }
        return out
    }

    private func modifiers(at: AtModifier?, offset: DurationExpr?) -> String {
        var out = ""
        switch at {
        case .timestamp(let ms)?:
            let seconds = Double(ms) / 1000
            let whole = Int64(ms / 1000)
            let millis = abs(ms % 1000)
            out += " @ " + (seconds < 0 && whole == 0 ? "-" : "") + "\(whole).\(String(repeating: "0", count: 3 - String(millis).count))\(millis)"
        case .start?: out += " @ start()"
        case .end?: out += " @ end()"
        case nil: break
        }
        if let offset {
            if case .literal(let ms) = offset, ms == 0 { return out }
            out += " offset \(offset)"
        }
        return out
    }
}

extension DurationExpr: CustomStringConvertible {
    /// `5m`, `1h30m`, `-5m`, or the expression.
    package var description: String {
        switch self {
        case .literal(let ms): return ms < 0 ? "-" + PrometheusDuration.format(milliseconds: -ms) : PrometheusDuration.format(milliseconds: ms)
        case .expression(let expr): return expr.description
        }
    }
}

extension VectorSelector: CustomStringConvertible {
    /// `name{a="b"}`, without modifiers.
    package var description: String {
        // As Prometheus: the name matcher is implied by the name; the rest are sorted and joined by ",".
        let others = matchers.filter { !(name != nil && $0.name == Labels.metricNameLabel && $0.type == .equal && $0.value == name && !$0.value.isEmpty) }
        let rendered = others.map { "\(labelName($0.name))\($0.type.rawValue)\(goQuote($0.value))" }.sorted()
        if rendered.isEmpty { return name ?? "{}" }
        return (name ?? "") + "{" + rendered.joined(separator: ",") + "}"
    }
}

/// A label name, quoted when it is not a legacy identifier (Prometheus 3 UTF-8 names).
func labelName(_ name: String) -> String {
    NameValidationScheme.legacy.isValidLabelName(name) ? name : goQuote(name)
}

/// Go's `strconv.Quote` for the characters PromQL strings use.
func goQuote(_ value: String) -> String {
    var out = "\""
    for scalar in value.unicodeScalars {
        switch scalar {
        case "\"": out += "\\\""
        case "\\": out += "\\\\"
        case "\n": out += "\\n"
        case "\t": out += "\\t"
        case "\r": out += "\\r"
        default:
            if scalar.value < 0x20 || scalar.value == 0x7F {
                let hex = String(scalar.value, radix: 16)
                out += "\\x" + (hex.count < 2 ? "0" + hex : hex)
            } else {
                out.unicodeScalars.append(scalar)
            }
        }
    }
    return out + "\""
}
