import OspreyModel

extension PromQLParser {
    /// Range selectors, subqueries, `offset` and `@` after a primary expression.
    mutating func parsePostfix(_ primary: Expr) throws(PromQLParseError) -> Expr {
        var expr = primary
        while true {
            if isOp("[") {
                expr = try parseBrackets(expr)
            } else if isKeyword("offset") {
                let token = advance()
                var negative = false
                if isOp("-") || isOp("+") {
                    negative = advance().kind == .op("-")
                }
                // An offset is one duration, number, call or parenthesised group: `x offset 1m + 2`
                // adds 2 to the result.
                var offset = try parseDurationAtom(context: "offset")
                if negative { offset = negated(offset) }
                expr = try applyOffset(offset, to: expr, at: token.start)
            } else if isOp("@") {
                let token = advance()
                expr = try applyAt(try parseAtModifier(), to: expr, at: token.start)
            } else {
                return expr
            }
        }
    }

    private mutating func parseBrackets(_ expr: Expr) throws(PromQLParseError) -> Expr {
        let open = advance()
        let range = try parseDuration(context: "range")
        if isOp(":") {
            advance()
            let step: DurationExpr? = isOp("]") ? nil : try parseDuration(context: "subquery step")
            try expectOp("]", "subquery selector")
            let end = tokens[max(index - 1, 0)].end
            guard expr.type == .vector || expr.type == .scalar else {
                throw PromQLParseError(position: open.start, message: "subquery is only allowed on instant vector, got \(expr.type.rawValue) instead")
            }
            return .subquery(SubqueryExpr(expr: expr, range: range, step: step, offset: nil, at: nil, position: PositionRange(start: TypeChecker.start(expr), end: end)))
        }
        try expectOp("]", "matrix selector")
        let end = tokens[max(index - 1, 0)].end
        guard case .vectorSelector(let selector) = expr else {
            throw PromQLParseError(position: open.start, message: "ranges only allowed for vector selectors")
        }
        guard selector.offset == nil && selector.at == nil else {
            throw PromQLParseError(position: open.start, message: "no offset or @ modifiers allowed before range")
        }
        return .matrixSelector(MatrixSelector(selector: selector, range: range, position: PositionRange(start: selector.position.start, end: end)))
    }

    private func applyOffset(_ offset: DurationExpr, to expr: Expr, at position: Int) throws(PromQLParseError) -> Expr {
        switch expr {
        case .vectorSelector(var selector):
            guard selector.offset == nil else { throw PromQLParseError(position: position, message: "offset may not be set multiple times") }
            selector.offset = offset
            return .vectorSelector(selector)
        case .matrixSelector(var matrix):
            guard matrix.selector.offset == nil else { throw PromQLParseError(position: position, message: "offset may not be set multiple times") }
            matrix.selector.offset = offset
            return .matrixSelector(matrix)
        case .subquery(var subquery):
            guard subquery.offset == nil else { throw PromQLParseError(position: position, message: "offset may not be set multiple times") }
            subquery.offset = offset
            return .subquery(subquery)
        default:
            throw PromQLParseError(position: position, message: "offset modifier must be preceded by an instant vector selector or range vector selector or a subquery")
        }
    }

    private func applyAt(_ at: AtModifier, to expr: Expr, at position: Int) throws(PromQLParseError) -> Expr {
        switch expr {
        case .vectorSelector(var selector):
            guard selector.at == nil else { throw PromQLParseError(position: position, message: "@ <timestamp> may not be set multiple times") }
            selector.at = at
            return .vectorSelector(selector)
        case .matrixSelector(var matrix):
            guard matrix.selector.at == nil else { throw PromQLParseError(position: position, message: "@ <timestamp> may not be set multiple times") }
            matrix.selector.at = at
            return .matrixSelector(matrix)
        case .subquery(var subquery):
            guard subquery.at == nil else { throw PromQLParseError(position: position, message: "@ <timestamp> may not be set multiple times") }
            subquery.at = at
            return .subquery(subquery)
        default:
            throw PromQLParseError(position: position, message: "@ modifier must be preceded by an instant vector selector or range vector selector or a subquery")
        }
    }

    private mutating func parseAtModifier() throws(PromQLParseError) -> AtModifier {
        if isKeyword("start") || isKeyword("end") {
            let isStart = isKeyword("start")
            advance()
            try expectOp("(", "@ modifier")
            try expectOp(")", "@ modifier")
            return isStart ? .start : .end
        }
        var sign = 1.0
        if isOp("-") || isOp("+") { sign = advance().kind == .op("-") ? -1 : 1 }
        let token = peek
        let seconds: Double
        switch token.kind {
        case .number(let value): seconds = value
        case .duration(let ms): seconds = Double(ms) / 1000
        default: throw unexpected("@", expected: "timestamp")
        }
        advance()
        let ms = (sign * seconds * 1000).rounded()
        guard ms.isFinite, abs(ms) < 9.2e18 else {
            throw PromQLParseError(position: token.start, message: "timestamp out of bounds for @ modifier: \(sign * seconds)")
        }
        return .timestamp(ms: Int64(ms))
    }

    private func negated(_ duration: DurationExpr) -> DurationExpr {
        switch duration {
        case .literal(let ms): return .literal(ms: -ms)
        case .expression(let expr): return .expression(.unaryMinus(expr, PositionRange(start: 0, end: 0)))
        }
    }
}
