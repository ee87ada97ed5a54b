import OspreyModel

extension PromQLParser {
    mutating func parsePrimary() throws(PromQLParseError) -> Expr {
        let token = peek
        switch token.kind {
        case .number(let value):
            advance()
            return .number(value, PositionRange(start: token.start, end: token.end))
        case .duration(let ms):
            // Prometheus 3: a duration where a number is expected is its value in seconds.
            advance()
            return .number(Double(ms) / 1000, PositionRange(start: token.start, end: token.end))
        case .string(let value):
            advance()
            return .string(value, PositionRange(start: token.start, end: token.end))
        case .op("("):
            advance()
            let inner = try parseExpression(minPrecedence: 0)
            guard isOp(")") else { throw unexpected("paren expression", expected: "\")\"") }
            let end = advance().end
            return .paren(inner, PositionRange(start: token.start, end: end))
        case .op("{"):
            return .vectorSelector(try parseVectorSelector(name: nil, start: token.start))
        case .identifier(let name):
            if let op = AggregationOp(rawValue: name.lowercased()), isAggregationStart() {
                return .aggregate(try parseAggregation(op, start: token.start))
            }
            if peekNext.kind == .op("(") {
                return .call(try parseCall(name, start: token.start))
            }
            if ["by", "without", "on", "ignoring", "group_left", "group_right", "bool", "offset"].contains(name.lowercased())
                || ["and", "or", "unless", "atan2"].contains(name.lowercased())
            {
                throw unexpected("expression")
            }
            advance()
            return .vectorSelector(try parseVectorSelector(name: name, start: token.start))
        default:
            throw unexpected("expression")
        }
    }

    private func isAggregationStart() -> Bool {
        switch peekNext.kind {
        case .op("("): return true
        case .identifier(let word): return ["by", "without"].contains(word.lowercased())
        default: return false
        }
    }

    mutating func parseVectorSelector(name: String?, start: Int, allowOnlyEmptyMatchers: Bool = false) throws(PromQLParseError) -> VectorSelector {
        var matchers: [LabelMatcher] = []
        if let name {
            matchers.append(try makeMatcher(.equal, Labels.metricNameLabel, name, at: start))
        }
        var end = tokens[max(index - 1, 0)].end
        if isOp("{") {
            advance()
            while !isOp("}") {
                let labelToken = peek
                let labelName: String
                switch labelToken.kind {
                case .identifier(let identifier): labelName = identifier
                case .string(let quoted): labelName = quoted
                default: throw unexpected("label matching", expected: "label name")
                }
                advance()
                if case .string = labelToken.kind, isOp(",") || isOp("}") {
                    guard name == nil else {
                        throw PromQLParseError(position: labelToken.start, message: "metric name must not be set twice: \"\(name ?? "")\" or \"\(labelName)\"")
                    }
                    matchers.append(try makeMatcher(.equal, Labels.metricNameLabel, labelName, at: labelToken.start))
                } else {
                    let type: MatchType
                    switch peek.kind {
                    case .op("="): type = .equal
                    case .op("!="): type = .notEqual
                    case .op("=~"): type = .regexMatch
                    case .op("!~"): type = .notRegexMatch
                    default: throw unexpected("label matching", expected: "label matching operator")
                    }
                    advance()
                    guard case .string(let value) = peek.kind else { throw unexpected("label matching", expected: "string") }
                    let valueToken = advance()
                    if labelName == Labels.metricNameLabel, name != nil {
                        throw PromQLParseError(position: labelToken.start, message: "metric name must not be set twice: \"\(name ?? "")\" or \"\(value)\"")
                    }
                    matchers.append(try makeMatcher(type, labelName, value, at: valueToken.start))
                }
                if isOp(",") {
                    advance()
                } else if !isOp("}") {
                    throw unexpected("label matching", expected: "\",\" or \"}\"")
                }
            }
            end = advance().end
        }
        guard allowOnlyEmptyMatchers || matchers.contains(where: { !$0.matchesEmpty }) else {
            throw PromQLParseError(position: start, message: "vector selector must contain at least one non-empty matcher")
        }
        return VectorSelector(name: name, matchers: matchers, offset: nil, at: nil, position: PositionRange(start: start, end: end))
    }

    private func makeMatcher(_ type: MatchType, _ name: String, _ value: String, at position: Int) throws(PromQLParseError) -> LabelMatcher {
        do {
            return try LabelMatcher(type, name, value)
        } catch {
            throw PromQLParseError(position: position, message: error.message)
        }
    }

    mutating func parseCall(_ name: String, start: Int) throws(PromQLParseError) -> FunctionCall {
        guard let function = PromQLFunction.named(name) else {
            throw PromQLParseError(position: start, message: "unknown function with name \"\(name)\"")
        }
        if function.experimental && !experimental {
            throw PromQLParseError(position: start, message: "function \"\(name)\" is not enabled")
        }
        advance()
        try expectOp("(", "function call")
        var args: [Expr] = []
        while !isOp(")") {
            if function.name == "info" && args.count == 1 && isOp("{") {
                // info()'s data-label selector may consist of matchers that match the empty string.
                let selectorStart = peek.start
                args.append(try parsePostfix(.vectorSelector(try parseVectorSelector(name: nil, start: selectorStart, allowOnlyEmptyMatchers: true))))
            } else {
                args.append(try parseExpression(minPrecedence: 0))
            }
            if isOp(",") {
                advance()
                if isOp(")") { break }
            } else if !isOp(")") {
                throw unexpected("function call", expected: "\",\" or \")\"")
            }
        }
        let end = advance().end
        return FunctionCall(function: function, args: args, position: PositionRange(start: start, end: end))
    }

    mutating func parseAggregation(_ op: AggregationOp, start: Int) throws(PromQLParseError) -> AggregateExpr {
        advance()
        var grouping: [String] = []
        var without = false
        var hasClause = false
        if isKeyword("by") || isKeyword("without") {
            without = isKeyword("without")
            advance()
            grouping = try parseLabelList()
            hasClause = true
        }
        try expectOp("(", "aggregation")
        var args: [Expr] = []
        while !isOp(")") {
            args.append(try parseExpression(minPrecedence: 0))
            if isOp(",") {
                advance()
                if isOp(")") { break }
            } else if !isOp(")") {
                throw unexpected("aggregation", expected: "\",\" or \")\"")
            }
        }
        var end = advance().end
        if !hasClause, isKeyword("by") || isKeyword("without") {
            without = isKeyword("without")
            advance()
            grouping = try parseLabelList()
            hasClause = true
            end = tokens[max(index - 1, 0)].end
        }
        let expected = op.takesParameter ? 2 : 1
        guard args.count == expected else {
            throw PromQLParseError(position: start, message: "wrong number of arguments for aggregate expression provided, expected \(expected), got \(args.count)")
        }
        return AggregateExpr(
            op: op, param: op.takesParameter ? args[0] : nil, expr: args[expected - 1], grouping: grouping,
            without: without, hasGroupingClause: hasClause, position: PositionRange(start: start, end: end))
    }
}
