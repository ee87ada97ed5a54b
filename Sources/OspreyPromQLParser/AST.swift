package import OspreyModel

/// A byte range of the query text an expression came from.
package struct PositionRange: Hashable, Sendable {
    /// First byte.
    package var start: Int
    /// One past the last byte.
    package var end: Int

    /// Creates a range.
    package init(start: Int, end: Int) {
        self.start = start
        self.end = end
    }
}

/// The type of value an expression evaluates to.
package enum ValueType: String, Hashable, Sendable {
    case scalar
    case vector = "instant vector"
    case matrix = "range vector"
    case string
}

/// A time modifier: `@ <timestamp>`, `@ start()` or `@ end()`.
package enum AtModifier: Hashable, Sendable {
    case timestamp(ms: Int64)
    case start
    case end
}

/// A duration in a selector or subquery: a literal or (experimental) an expression.
package indirect enum DurationExpr: Hashable, Sendable {
    case literal(ms: Int64)
    case expression(Expr)
}

/// An instant vector selector: `name{matchers} offset 5m @ 1000`.
package struct VectorSelector: Hashable, Sendable {
    /// The metric name if written outside braces (it is also a matcher).
    package var name: String?
    /// All matchers, the name matcher included.
    package var matchers: [LabelMatcher]
    /// `offset` in ms (negative allowed).
    package var offset: DurationExpr?
    /// `@` modifier.
    package var at: AtModifier?
    /// Where it was written.
    package var position: PositionRange
}

/// `<vector selector>[range]`.
package struct MatrixSelector: Hashable, Sendable {
    /// The selector (it holds offset and `@`).
    package var selector: VectorSelector
    /// The range.
    package var range: DurationExpr
    /// Where it was written.
    package var position: PositionRange
}

/// `<expr>[range:step]` with optional offset and `@`.
package struct SubqueryExpr: Hashable, Sendable {
    /// The inner expression.
    package var expr: Expr
    /// The range.
    package var range: DurationExpr
    /// The step, nil for the default (the evaluation interval).
    package var step: DurationExpr?
    /// `offset`.
    package var offset: DurationExpr?
    /// `@`.
    package var at: AtModifier?
    /// Where it was written.
    package var position: PositionRange
}

/// A function call.
package struct FunctionCall: Hashable, Sendable {
    /// The function.
    package var function: PromQLFunction
    /// The arguments.
    package var args: [Expr]
    /// Where it was written.
    package var position: PositionRange
}

/// Aggregation operators.
package enum AggregationOp: String, Hashable, Sendable, CaseIterable {
    case sum, avg, count, min, max, group, stddev, stdvar, topk, bottomk, quantile
    case countValues = "count_values"
    case limitk
    case limitRatio = "limit_ratio"

    /// Whether the operator takes a parameter before the vector.
    package var takesParameter: Bool {
        switch self {
        case .topk, .bottomk, .quantile, .countValues, .limitk, .limitRatio: return true
        default: return false
        }
    }
}

/// `op [by|without (labels)] ([param,] expr)`.
package struct AggregateExpr: Hashable, Sendable {
    /// The operator.
    package var op: AggregationOp
    /// The parameter of topk, quantile, count_values, …
    package var param: Expr?
    /// The aggregated expression.
    package var expr: Expr
    /// Grouping labels.
    package var grouping: [String]
    /// `without` instead of `by`.
    package var without: Bool
    /// Whether a `by`/`without` clause was written (`sum by () (x)` differs from `sum(x)` only in printing).
    package var hasGroupingClause: Bool
    /// Where it was written.
    package var position: PositionRange
}

/// Binary operators, by precedence group.
package enum BinaryOp: String, Hashable, Sendable, CaseIterable {
    case add = "+", sub = "-", mul = "*", div = "/", mod = "%", pow = "^", atan2
    case eql = "==", neq = "!=", gtr = ">", lss = "<", gte = ">=", lte = "<="
    case and, or, unless

    /// Higher binds tighter (Prometheus' precedence).
    package var precedence: Int {
        switch self {
        case .or: return 1
        case .and, .unless: return 2
        case .eql, .neq, .gtr, .lss, .gte, .lte: return 3
        case .add, .sub: return 4
        case .mul, .div, .mod, .atan2: return 5
        case .pow: return 6
        }
    }

    /// `^` is right-associative; everything else left.
    package var isRightAssociative: Bool { self == .pow }
    /// Comparison operators (may take `bool`).
    package var isComparison: Bool { precedence == 3 }
    /// Set operators (`and`, `or`, `unless`).
    package var isSetOperator: Bool { self == .and || self == .or || self == .unless }
}

/// Vector matching of a binary operation.
package struct VectorMatching: Hashable, Sendable {
    /// One-to-one, many-to-one (`group_left`), one-to-many (`group_right`), many-to-many (set ops).
    package enum Cardinality: Hashable, Sendable {
        case oneToOne, manyToOne, oneToMany, manyToMany
    }

    /// The cardinality.
    package var cardinality: Cardinality
    /// `on`/`ignoring` labels.
    package var matchingLabels: [String]
    /// `on` (true) or `ignoring` (false).
    package var on: Bool
    /// Labels to copy from the "one" side (`group_left(labels)`).
    package var include: [String]

    /// Creates a matching.
    package init(cardinality: Cardinality, matchingLabels: [String], on: Bool, include: [String]) {
        self.cardinality = cardinality
        self.matchingLabels = matchingLabels
        self.on = on
        self.include = include
    }
}

/// `lhs op [bool] [on/ignoring(...)] [group_x(...)] rhs`.
package struct BinaryExpr: Hashable, Sendable {
    /// The operator.
    package var op: BinaryOp
    /// Left operand.
    package var lhs: Expr
    /// Right operand.
    package var rhs: Expr
    /// `bool` modifier of comparisons.
    package var returnBool: Bool
    /// Matching, nil when an operand is a scalar.
    package var matching: VectorMatching?
    /// Whether `on`/`ignoring` was written.
    package var hasMatchingClause: Bool
}

/// A parsed PromQL expression.
package indirect enum Expr: Hashable, Sendable {
    case number(Double, PositionRange)
    case string(String, PositionRange)
    case vectorSelector(VectorSelector)
    case matrixSelector(MatrixSelector)
    case subquery(SubqueryExpr)
    case call(FunctionCall)
    case aggregate(AggregateExpr)
    case binary(BinaryExpr)
    case unaryMinus(Expr, PositionRange)
    case paren(Expr, PositionRange)

    /// The type the expression evaluates to.
    package var type: ValueType {
        switch self {
        case .number: return .scalar
        case .string: return .string
        case .vectorSelector: return .vector
        case .matrixSelector, .subquery: return .matrix
        case .call(let call): return call.function.returnType
        case .aggregate: return .vector
        case .binary(let binary): return binary.lhs.type == .scalar && binary.rhs.type == .scalar ? .scalar : .vector
        case .unaryMinus(let inner, _), .paren(let inner, _): return inner.type
        }
    }

    /// The expression inside any parentheses.
    package var unwrappingParens: Expr {
        var expr = self
        while case .paren(let inner, _) = expr { expr = inner }
        return expr
    }

    /// Where the expression was written (a binary expression spans both operands).
    package var position: PositionRange {
        switch self {
        case .number(_, let position), .string(_, let position), .unaryMinus(_, let position), .paren(_, let position): return position
        case .vectorSelector(let selector): return selector.position
        case .matrixSelector(let matrix): return matrix.position
        case .subquery(let subquery): return subquery.position
        case .call(let call): return call.position
        case .aggregate(let aggregate): return aggregate.position
        case .binary(let binary): return PositionRange(start: binary.lhs.position.start, end: binary.rhs.position.end)
        }
    }
}
