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

    /// A single duration literal or number of seconds.
    mutating func parseDurationAtom(context: String) throws(PromQLParseError) -> DurationExpr {
        let token = peek
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

    private mutating func parseDurationUnary(_ context: String) throws(PromQLParseError) -> Expr {
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
            try expectOp(")", context)
            return inner
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

