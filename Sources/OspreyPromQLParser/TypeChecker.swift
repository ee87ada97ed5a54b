/// Prometheus' static checks (`parser.checkAST`): operand, argument and aggregation types.
enum TypeChecker {
    static func check(_ expr: Expr, topLevel: Bool = false) throws(PromQLParseError) {
        switch expr {
        case .number, .string, .vectorSelector, .matrixSelector:
            return
        case .paren(let inner, _), .unaryMinus(let inner, _):
            if case .unaryMinus = expr, inner.type != .scalar && inner.type != .vector {
                throw PromQLParseError(position: start(expr), message: "unary expression only allowed on expressions of type scalar or instant vector, got \"\(inner.type.rawValue)\"")
            }
            try check(inner)
        case .subquery(let subquery):
            try check(subquery.expr)
        case .call(let call):
            try checkCall(call)
        case .aggregate(let aggregate):
            try checkAggregate(aggregate)
        case .binary(let binary):
            try checkBinary(binary, at: start(expr))
        }
    }

    private static func checkCall(_ call: FunctionCall) throws(PromQLParseError) {
        let function = call.function
        let required = function.variadic > 0 ? function.argTypes.count - function.variadic : function.argTypes.count - (function.variadic < 0 ? 0 : 0)
        let count = call.args.count
        if function.variadic == 0 {
            guard count == function.argTypes.count else {
                throw PromQLParseError(position: call.position.start, message: "expected \(function.argTypes.count) argument(s) in call to \"\(function.name)\", got \(count)")
            }
        } else if function.variadic > 0 {
            guard count >= required && count <= function.argTypes.count else {
                throw PromQLParseError(position: call.position.start, message: "expected at most \(function.argTypes.count) argument(s) in call to \"\(function.name)\", got \(count)")
            }
        } else {
            guard count >= function.argTypes.count - 1 else {
                throw PromQLParseError(position: call.position.start, message: "expected at least \(function.argTypes.count - 1) argument(s) in call to \"\(function.name)\", got \(count)")
            }
        }
        for (index, arg) in call.args.enumerated() {
            let expected = index < function.argTypes.count ? function.argTypes[index] : function.argTypes[function.argTypes.count - 1]
            try check(arg)
            if arg.type != expected {
                throw PromQLParseError(position: start(arg), message: "expected type \(expected.rawValue) in call to function \"\(function.name)\", got \(arg.type.rawValue)")
            }
        }
    }

    private static func checkAggregate(_ aggregate: AggregateExpr) throws(PromQLParseError) {
        try check(aggregate.expr)
        guard aggregate.expr.type == .vector else {
            throw PromQLParseError(position: start(aggregate.expr), message: "expected type instant vector in aggregation expression, got \(aggregate.expr.type.rawValue)")
        }
        if let param = aggregate.param {
            try check(param)
            let expected: ValueType = aggregate.op == .countValues ? .string : .scalar
            guard param.type == expected else {
                throw PromQLParseError(position: start(param), message: "expected type \(expected.rawValue) in aggregation parameter, got \(param.type.rawValue)")
            }
        }
    }

    private static func checkBinary(_ binary: BinaryExpr, at position: Int) throws(PromQLParseError) {
        try check(binary.lhs)
        try check(binary.rhs)
        for side in [binary.lhs, binary.rhs] where side.type != .scalar && side.type != .vector {
            throw PromQLParseError(position: start(side), message: "binary expression must contain only scalar and instant vector types")
        }
        let bothScalar = binary.lhs.type == .scalar && binary.rhs.type == .scalar
        if binary.op.isComparison && bothScalar && !binary.returnBool {
            throw PromQLParseError(position: position, message: "comparisons between scalars must use BOOL modifier")
        }
        if binary.op.isSetOperator && (binary.lhs.type == .scalar || binary.rhs.type == .scalar) {
            throw PromQLParseError(position: position, message: "set operator \"\(binary.op.rawValue)\" not allowed in binary scalar expression")
        }
        if binary.hasMatchingClause && (binary.lhs.type != .vector || binary.rhs.type != .vector) {
            throw PromQLParseError(position: position, message: "vector matching only allowed between instant vectors")
        }
        if let matching = binary.matching, matching.cardinality == .manyToOne || matching.cardinality == .oneToMany {
            for label in matching.include where matching.on && matching.matchingLabels.contains(label) {
                throw PromQLParseError(position: position, message: "label \"\(label)\" must not occur in ON and GROUP clause at once")
            }
        }
    }

    static func start(_ expr: Expr) -> Int {
        switch expr {
        case .number(_, let range), .string(_, let range), .unaryMinus(_, let range), .paren(_, let range): return range.start
        case .vectorSelector(let selector): return selector.position.start
        case .matrixSelector(let matrix): return matrix.position.start
        case .subquery(let subquery): return subquery.position.start
        case .call(let call): return call.position.start
        case .aggregate(let aggregate): return aggregate.position.start
        case .binary(let binary): return start(binary.lhs)
        }
    }
}
