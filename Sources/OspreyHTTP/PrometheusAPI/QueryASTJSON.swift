import OspreyModel
import OspreyPromQLParser

/// The syntax tree of `/api/v1/parse_query`, in the shape of Prometheus' `translateAST`
/// (object keys sorted, as Go writes maps).
indirect enum QueryASTJSON {
    case object([String: QueryASTJSON])
    case array([QueryASTJSON])
    case string(String)
    case number(Int64)
    case bool(Bool)
    case null

    static func translate(_ expr: Expr) -> QueryASTJSON {
        switch expr {
        case .aggregate(let aggregate):
            return .object([
                "type": .string("aggregation"), "op": .string(aggregate.op.rawValue), "expr": translate(aggregate.expr),
                "param": aggregate.param.map(translate) ?? .null, "grouping": .array(aggregate.grouping.map { .string($0) }),
                "without": .bool(aggregate.without),
            ])
        case .binary(let binary):
            var matching = QueryASTJSON.null
            if let m = binary.matching {
                let card: String
                switch m.cardinality {
                case .oneToOne: card = "one-to-one"
                case .manyToOne: card = "many-to-one"
                case .oneToMany: card = "one-to-many"
                case .manyToMany: card = "many-to-many"
                }
                matching = .object([
                    "card": .string(card), "labels": .array(m.matchingLabels.map { .string($0) }), "on": .bool(m.on),
                    "include": .array(m.include.map { .string($0) }), "fillValues": .object(["lhs": .null, "rhs": .null]),
                ])
            }
            return .object([
                "type": .string("binaryExpr"), "op": .string(binary.op.rawValue), "lhs": translate(binary.lhs),
                "rhs": translate(binary.rhs), "matching": binary.lhs.type == .vector && binary.rhs.type == .vector ? matching : .null, "bool": .bool(binary.returnBool),
            ])
        case .call(let call):
            let function = call.function
            return .object([
                "type": .string("call"),
                "func": .object([
                    "name": .string(function.name), "argTypes": .array(function.argTypes.map { .string(goType($0)) }),
                    "variadic": .number(Int64(function.variadic)), "returnType": .string(goType(function.returnType)),
                ]),
                "args": .array(call.args.map(translate)),
            ])
        case .matrixSelector(let matrix):
            var fields = selectorFields(matrix.selector)
            fields["type"] = .string("matrixSelector")
            fields["range"] = .number(ms(matrix.range))
            fields["rangeExpr"] = .null
            return .object(fields)
        case .subquery(let subquery):
            return .object([
                "type": .string("subquery"), "expr": translate(subquery.expr), "range": .number(ms(subquery.range)),
                "rangeExpr": .null, "offset": .number(subquery.offset.map(ms) ?? 0), "offsetExpr": .null,
                "step": .number(subquery.step.map(ms) ?? 0), "stepExpr": .null, "timestamp": timestamp(subquery.at),
                "startOrEnd": startOrEnd(subquery.at),
            ])
        case .number(let value, _):
            return .object(["type": .string("numberLiteral"), "val": .string(GoFloatFormat.f(value))])
        case .paren(let inner, _):
            return .object(["type": .string("parenExpr"), "expr": translate(inner)])
        case .string(let value, _):
            return .object(["type": .string("stringLiteral"), "val": .string(value)])
        case .unaryMinus(let inner, _):
            return .object(["type": .string("unaryExpr"), "op": .string("-"), "expr": translate(inner)])
        case .vectorSelector(let selector):
            var fields = selectorFields(selector)
            fields["type"] = .string("vectorSelector")
            return .object(fields)
        }
    }

    private static func selectorFields(_ selector: VectorSelector) -> [String: QueryASTJSON] {
        [
            "name": .string(selector.name ?? ""), "offset": .number(selector.offset.map(ms) ?? 0), "offsetExpr": .null,
            "matchers": .array(selector.matchers.map { .object(["name": .string($0.name), "value": .string($0.value), "type": .string($0.type.rawValue)]) }),
            "timestamp": timestamp(selector.at), "startOrEnd": startOrEnd(selector.at), "anchored": .bool(false), "smoothed": .bool(false),
        ]
    }

    private static func ms(_ duration: DurationExpr) -> Int64 {
        if case .literal(let ms) = duration { return ms }
        return 0
    }

    private static func timestamp(_ at: AtModifier?) -> QueryASTJSON {
        if case .timestamp(let ms)? = at { return .number(ms) }
        return .null
    }

    private static func startOrEnd(_ at: AtModifier?) -> QueryASTJSON {
        switch at {
        case .start?: return .string("start")
        case .end?: return .string("end")
        default: return .null
        }
    }

    /// Go's `parser.ValueType` names.
    private static func goType(_ type: ValueType) -> String {
        switch type {
        case .scalar: return "scalar"
        case .string: return "string"
        case .vector: return "vector"
        case .matrix: return "matrix"
        }
    }

    func write(_ writer: inout JSONWriter) {
        switch self {
        case .object(let fields):
            writer.object { object in
                for key in fields.keys.sorted() { object.field(key) { fields[key]!.write(&$0) } }
            }
        case .array(let items):
            writer.array { array in
                for item in items { array.element { item.write(&$0) } }
            }
        case .string(let text): writer.string(text)
        case .number(let value): writer.raw(String(value))
        case .bool(let value): writer.raw(value ? "true" : "false")
        case .null: writer.raw("null")
        }
    }
}
