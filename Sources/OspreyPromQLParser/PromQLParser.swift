package import OspreyModel

/// Parses PromQL into an ``Expr`` and checks its types, with Prometheus' precedence,
/// associativity and error messages (positions are byte offsets).
package struct PromQLParser {
    var tokens: [PromQLToken]
    var index = 0
    /// Whether experimental functions and duration expressions are accepted.
    let experimental: Bool

    init(tokens: [PromQLToken], experimental: Bool) {
        self.tokens = tokens
        self.experimental = experimental
    }

    /// Parses and type-checks `text`.
    package static func parse(_ text: String, experimental: Bool = true) throws(PromQLParseError) -> Expr {
        do {
            return try parseUnlocated(text, experimental: experimental)
        } catch {
            var located = error
            located.query = text
            throw located
        }
    }

    private static func parseUnlocated(_ text: String, experimental: Bool) throws(PromQLParseError) -> Expr {
        var parser = PromQLParser(tokens: try PromQLLexer.tokens(text), experimental: experimental)
        if parser.peek.kind == .eof {
            throw PromQLParseError(position: 0, message: "no expression found in input")
        }
        let expr = try parser.parseExpression(minPrecedence: 0)
        guard parser.peek.kind == .eof else {
            throw parser.unexpected("expression")
        }
        try TypeChecker.check(expr, topLevel: true)
        return expr
    }

    var peek: PromQLToken { tokens[index] }
    var peekNext: PromQLToken { tokens[min(index + 1, tokens.count - 1)] }

    @discardableResult
    mutating func advance() -> PromQLToken {
        let token = tokens[index]
        if index < tokens.count - 1 { index += 1 }
        return token
    }

    func isOp(_ op: String) -> Bool { peek.kind == .op(op) }

    func isKeyword(_ word: String) -> Bool {
        if case .identifier(let name) = peek.kind { return name.lowercased() == word }
        return false
    }

    mutating func expectOp(_ op: String, _ context: String) throws(PromQLParseError) {
        guard isOp(op) else { throw unexpected(context, expected: "\"\(op)\"") }
        advance()
    }

    func unexpected(_ context: String, expected: String? = nil) -> PromQLParseError {
        let token = peek
        let what: String
        switch token.kind {
        case .eof: what = "end of input"
        case .identifier(let name): what = "identifier \"\(name)\""
        case .number: what = "number"
        case .duration: what = "duration"
        case .string: what = "string"
        case .op(let op): what = "\"\(op)\""
        }
        var message = "unexpected \(what) in \(context)"
        if let expected { message += ", expected \(expected)" }
        return PromQLParseError(position: token.start, message: message)
    }

    // MARK: Binary expressions

    mutating func parseExpression(minPrecedence: Int) throws(PromQLParseError) -> Expr {
        var lhs = try parseUnary()
        while let op = binaryOperator(), op.precedence >= minPrecedence {
            advance()
            var returnBool = false
            if isKeyword("bool") {
                guard op.isComparison else {
                    throw PromQLParseError(position: peek.start, message: "bool modifier can only be used on comparison operators")
                }
                advance()
                returnBool = true
            }
            let (matching, hasClause) = try parseMatching(op)
            let rhs = try parseExpression(minPrecedence: op.isRightAssociative ? op.precedence : op.precedence + 1)
            lhs = .binary(BinaryExpr(op: op, lhs: lhs, rhs: rhs, returnBool: returnBool, matching: matching, hasMatchingClause: hasClause))
        }
        return lhs
    }

    private func binaryOperator() -> BinaryOp? {
        switch peek.kind {
        case .op(let op): return BinaryOp(rawValue: op)
        case .identifier(let word):
            switch word.lowercased() {
            case "and": return .and
            case "or": return .or
            case "unless": return .unless
            case "atan2": return .atan2
            default: return nil
            }
        default: return nil
        }
    }

    private mutating func parseMatching(_ op: BinaryOp) throws(PromQLParseError) -> (VectorMatching?, Bool) {
        var matching = VectorMatching(cardinality: op.isSetOperator ? .manyToMany : .oneToOne, matchingLabels: [], on: false, include: [])
        var hasClause = false
        if isKeyword("on") || isKeyword("ignoring") {
            matching.on = isKeyword("on")
            advance()
            matching.matchingLabels = try parseLabelList()
            hasClause = true
            if isKeyword("group_left") || isKeyword("group_right") {
                guard !op.isSetOperator else {
                    throw PromQLParseError(position: peek.start, message: "no grouping allowed for \"\(op.rawValue)\" operation")
                }
                matching.cardinality = isKeyword("group_left") ? .manyToOne : .oneToMany
                advance()
                if isOp("(") { matching.include = try parseLabelList() }
            }
        } else if isKeyword("group_left") || isKeyword("group_right") {
            throw PromQLParseError(position: peek.start, message: "unexpected \(isKeyword("group_left") ? "group_left" : "group_right") without \"on\" or \"ignoring\"")
        }
        return (matching, hasClause)
    }

    /// `(label, "label", …)`.
    mutating func parseLabelList() throws(PromQLParseError) -> [String] {
        try expectOp("(", "grouping opts")
        var labels: [String] = []
        while !isOp(")") {
            switch peek.kind {
            case .identifier(let name) where !name.contains(":"):
                labels.append(name)
            case .string(let name):
                labels.append(name)
            default:
                throw unexpected("grouping opts", expected: "label")
            }
            advance()
            if isOp(",") {
                advance()
            } else if !isOp(")") {
                throw unexpected("grouping opts", expected: "\",\" or \")\"")
            }
        }
        advance()
        return labels
    }

    // MARK: Unary and postfix

    mutating func parseUnary() throws(PromQLParseError) -> Expr {
        if isOp("-") || isOp("+") {
            let token = advance()
            // Unary operators bind like multiplication: -a^b is -(a^b).
            let operand = try parseExpression(minPrecedence: BinaryOp.pow.precedence)
            if token.kind == .op("+") { return operand }
            if case .number(let value, let range) = operand {
                return .number(-value, PositionRange(start: token.start, end: range.end))
            }
            return .unaryMinus(operand, PositionRange(start: token.start, end: tokens[max(index - 1, 0)].end))
        }
        return try parsePostfix(try parsePrimary())
    }
}
