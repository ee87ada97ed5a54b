import Foundation
import OspreyModel

extension PromQLParser {
    /// A duration in brackets or after `offset`: a literal (`5m`), a number of seconds (`300`),
    /// or, as Prometheus 3's duration expressions, arithmetic over those (`2m * 15`).
    mutating func parseDuration(context: String) throws(PromQLParseError) -> DurationExpr {
        let first = peek
        let expr = try parseDurationSum(context)
        if case .number(let seconds, _) = expr {
            if case .duration(let ms) = first.kind, tokens[index - 1] == first { return .literal(ms: ms) }
            let ms = (seconds * 1000).rounded()
            guard ms.isFinite, abs(ms) < 9.2e18 else {
                throw PromQLParseError(position: first.start, message: "duration out of range in \(context)")
            }
            return .literal(ms: Int64(ms))
        }
        guard experimental else {
            throw PromQLParseError(position: first.start, message: "experimental duration expression is not enabled")
        }
        return .expression(expr)
    }

    /// A single duration literal or number of seconds, or a query-context call (`step()`,
    /// `min_of(step(), 1m)`), as an offset takes it.
    mutating func parseDurationAtom(context: String) throws(PromQLParseError) -> DurationExpr {
        let token = peek
        if token.kind == .op("(") || {
            if case .identifier(let name) = token.kind { return Self.durationFunctions.contains(name.lowercased()) }
            return false
        }() {
            // A parenthesised group or a call; what follows it is an ordinary operator.
            let call = try parseDurationUnary(context)
            if case .number(let seconds, _) = call { return .literal(ms: Int64((seconds * 1000).rounded())) }
            guard experimental else {
                throw PromQLParseError(position: token.start, message: "experimental duration expression is not enabled")
            }
            return .expression(call)
        }
        switch token.kind {
        case .duration(let ms):
            advance()
            return .literal(ms: ms)
        case .number(let seconds):
            advance()
            let ms = (seconds * 1000).rounded()
            guard ms.isFinite, abs(ms) < 9.2e18 else {
                throw PromQLParseError(position: token.start, message: "duration out of range in \(context)")
            }
            return .literal(ms: Int64(ms))
        default:
            throw unexpected(context, expected: "duration")
        }
    }

    private mutating func parseDurationSum(_ context: String) throws(PromQLParseError) -> Expr {
        var lhs = try parseDurationProduct(context)
        while isOp("+") || isOp("-") {
            let op: BinaryOp = advance().kind == .op("+") ? .add : .sub
            lhs = fold(op, lhs, try parseDurationProduct(context))
        }
        return lhs
    }

    private mutating func parseDurationProduct(_ context: String) throws(PromQLParseError) -> Expr {
        var lhs = try parseDurationPower(context)
        while isOp("*") || isOp("/") || isOp("%") {
            let token = advance()
            let op: BinaryOp = token.kind == .op("*") ? .mul : token.kind == .op("/") ? .div : .mod
            lhs = fold(op, lhs, try parseDurationPower(context))
        }
        return lhs
    }

    private mutating func parseDurationPower(_ context: String) throws(PromQLParseError) -> Expr {
        let base = try parseDurationUnary(context)
        if isOp("^") {
            advance()
            return fold(.pow, base, try parseDurationPower(context))
        }
        return base
    }

    /// Functions allowed in duration expressions: the query's step and range, and min/max.
    static let durationFunctions: Set<String> = ["step", "range", "min_of", "max_of"]

    /// `step()`, `range()`, `min_of(a, b)`, `max_of(a, b)` (names in any case).
    private mutating func parseDurationCall(_ context: String) throws(PromQLParseError) -> Expr {
        let token = advance()
        guard case .identifier(let rawName) = token.kind else { throw unexpected(context, expected: "duration") }
        let name = rawName.lowercased()
        try expectOp("(", context)
        var args: [Expr] = []
        if name == "min_of" || name == "max_of" {
            args.append(try parseDurationSum(context))
            try expectOp(",", context)
            args.append(try parseDurationSum(context))
        }
        let close = peek
        try expectOp(")", context)
        if args.count == 2, case .number(let a, _) = args[0], case .number(let b, _) = args[1] {
            return .number(name == "min_of" ? Swift.min(a, b) : Swift.max(a, b), PositionRange(start: token.start, end: close.end))
        }
        let function = PromQLFunction(name, args.map { _ in ValueType.scalar }, .scalar, experimental: true)
        return .call(FunctionCall(function: function, args: args, position: PositionRange(start: token.start, end: close.end)))
    }

    mutating func parseDurationUnary(_ context: String) throws(PromQLParseError) -> Expr {
        if isOp("+") {
            advance()
            return try parseDurationPower(context)
        }
        if isOp("-") {
            let token = advance()
            // As in expressions, unary minus binds looser than ^: -2^2 is -(2^2).
            let operand = try parseDurationPower(context)
            if case .number(let value, let range) = operand { return .number(-value, PositionRange(start: token.start, end: range.end)) }
            return .unaryMinus(operand, PositionRange(start: token.start, end: token.end))
        }
        let token = peek
        switch token.kind {
        case .duration(let ms):
            advance()
            return .number(Double(ms) / 1000, PositionRange(start: token.start, end: token.end))
        case .number(let value):
            advance()
            return .number(value, PositionRange(start: token.start, end: token.end))
        case .op("("):
            advance()
            let inner = try parseDurationSum(context)
            let close = peek
            try expectOp(")", context)
            if case .number = inner { return inner }
            return .paren(inner, PositionRange(start: token.start, end: close.end))
        case .identifier(let name) where Self.durationFunctions.contains(name.lowercased()):
            return try parseDurationCall(context)
        default:
            throw unexpected(context, expected: "duration")
        }
    }

    /// Constant arithmetic is folded, as durations must be known before evaluation.
    private func fold(_ op: BinaryOp, _ lhs: Expr, _ rhs: Expr) -> Expr {
        if case .number(let a, let left) = lhs, case .number(let b, let right) = rhs {
            let value: Double
            switch op {
            case .add: value = a + b
            case .sub: value = a - b
            case .mul: value = a * b
            case .div: value = a / b
            case .mod: value = a.truncatingRemainder(dividingBy: b)
            case .pow: value = Foundation.pow(a, b)
            default: value = .nan
            }
            return .number(value, PositionRange(start: left.start, end: right.end))
        }
        return .binary(BinaryExpr(op: op, lhs: lhs, rhs: rhs, returnBool: false, matching: nil, hasMatchingClause: false))
    }
}

