import OspreyModel
import OspreyPromQLParser
import Testing

struct PromQLParserTests {
    @Test(arguments: [
        ("sum(rate(foo[5m])) by (job)", "sum by (job) (rate(foo[5m]))"),
        ("sum without(instance)(foo)", "sum without (instance) (foo)"),
        ("sum by () (foo)", "sum(foo)"),
        ("topk(3,foo)", "topk(3, foo)"),
        ("count_values(\"v\", foo)", "count_values(\"v\", foo)"),
        ("a+b*c", "a + b * c"),
        ("(a+b)*c", "(a + b) * c"),
        ("a == bool b", "a == bool b"),
        ("a * on(x) group_left(y) b", "a * on (x) group_left (y) b"),
        ("a and ignoring(x) b", "a and ignoring (x) b"),
        ("foo{b=\"2\",a=\"1\"} offset 5m", "foo{a=\"1\",b=\"2\"} offset 5m"),
        ("foo @ 100", "foo @ 100.000"),
        ("foo offset -1h30m", "foo offset -1h30m"),
        ("rate(foo[5m] @ end() offset 1m)", "rate(foo[5m] @ end() offset 1m)"),
        ("foo[5m:]", "foo[5m:]"),
        ("rate(foo[5m])[1h:5m] offset 10m", "rate(foo[5m])[1h:5m] offset 10m"),
        ("foo[300]", "foo[5m]"),
        ("1e6", "1e+06"),
        ("0x10", "16"),
        ("Inf", "+Inf"),
        ("-inf", "-Inf"),
        ("nan", "NaN"),
        ("0.0001", "0.0001"),
        ("0.00001", "1e-05"),
        ("123456", "123456"),
        ("1234567", "1.234567e+06"),
        ("-0.5", "-0.5"),
        ("- foo", "-foo"),
        ("+ 1", "1"),
        ("'a\"b'", "\"a\\\"b\""),
        ("{__name__=~\"foo.*\", job!=\"x\"}", "{__name__=~\"foo.*\",job!=\"x\"}"),
        ("{\"service.name\"=\"api\", \"http.requests\"}", "{\"service.name\"=\"api\",__name__=\"http.requests\"}"),
        ("label_replace(up, \"a\", \"$1\", \"b\", \"(.*)\")", "label_replace(up, \"a\", \"$1\", \"b\", \"(.*)\")"),
        ("round(foo)", "round(foo)"),
        ("time()", "time()"),
    ])
    func formatsAsPrometheus(_ input: String, _ expected: String) throws {
        #expect(try PromQLParser.parse(input).description == expected)
    }

    @Test func powerIsRightAssociativeAndBindsTighterThanUnaryMinus() throws {
        guard case .binary(let outer) = try PromQLParser.parse("2 ^ 3 ^ 2") else { Issue.record("not binary"); return }
        #expect(outer.op == .pow)
        guard case .binary(let inner) = outer.rhs else { Issue.record("rhs not binary"); return }
        #expect(inner.op == .pow)
        guard case .unaryMinus(let operand, _) = try PromQLParser.parse("-a ^ b") else { Issue.record("not unary"); return }
        guard case .binary(let power) = operand else { Issue.record("operand not binary"); return }
        #expect(power.op == .pow)
        guard case .binary(let subtraction) = try PromQLParser.parse("a - b - c"), case .binary = subtraction.lhs else {
            Issue.record("subtraction is not left-associative")
            return
        }
    }

    @Test func precedenceOfSetAndComparisonOperators() throws {
        guard case .binary(let top) = try PromQLParser.parse("a or b and c > d + e") else { Issue.record("not binary"); return }
        #expect(top.op == .or)
        guard case .binary(let and) = top.rhs else { Issue.record("rhs not binary"); return }
        #expect(and.op == .and)
    }

    @Test(arguments: [
        ("rate(foo)", "expected type range vector in call to function \"rate\", got instant vector"),
        ("foo[5m] + 1", "binary expression must contain only scalar and instant vector types"),
        ("1 > 2", "comparisons between scalars must use BOOL modifier"),
        ("1 and foo", "set operator \"and\" not allowed in binary scalar expression"),
        ("unknown_fn(x)", "unknown function with name \"unknown_fn\""),
        ("{a=\"\"}", "vector selector must contain at least one non-empty matcher"),
        ("sum(foo[5m])", "expected type instant vector in aggregation expression, got range vector"),
        ("topk(foo)", "wrong number of arguments for aggregate expression provided, expected 2, got 1"),
        ("rate(foo[5m], 1)", "expected 1 argument(s) in call to \"rate\", got 2"),
        ("(foo + 1)[5m]", "ranges only allowed for vector selectors"),
        ("foo offset 1m offset 2m", "offset may not be set multiple times"),
        ("1 offset 5m", "offset modifier must be preceded by an instant vector selector or range vector selector or a subquery"),
        ("foo + bool bar", "bool modifier can only be used on comparison operators"),
        ("", "no expression found in input"),
    ])
    func rejectsInvalidQueriesWithPrometheusMessages(_ input: String, _ message: String) {
        do {
            _ = try PromQLParser.parse(input)
            Issue.record("\(input) parsed")
        } catch {
            #expect(error.message == message)
        }
    }

    @Test func errorsPointAtTheProblem() {
        do {
            _ = try PromQLParser.parse("sum(rate(foo[5m]) by (job)")
            Issue.record("parsed")
        } catch {
            #expect(error.description.hasPrefix("1:"))
            #expect(error.message == "unexpected identifier \"by\" in aggregation, expected \",\" or \")\"")
        }
        do {
            _ = try PromQLParser.parse("foo{a=\"b\" c}")
            Issue.record("parsed")
        } catch {
            #expect(error.position == 10)
        }
    }
}

struct GoFloatFormatTests {
    @Test(arguments: [
        (1e6, "1000000"), (1e-7, "0.0000001"), (0.1, "0.1"), (1e21, "1000000000000000000000"), (-2.5, "-2.5"),
        (Double.infinity, "+Inf"), (-Double.infinity, "-Inf"), (Double.nan, "NaN"), (123.456, "123.456"), (0, "0"),
        (0.001, "0.001"), (0.0001, "0.0001"), (1.5e-5, "0.000015"), (0.30000000000000004, "0.30000000000000004"),
        (12345.678, "12345.678"), (-0.5, "-0.5"), (1.5e20, "150000000000000000000"), (4503599627370495.5, "4503599627370495.5"),
    ])
    func shortestFixedNotationMatchesGo(_ value: Double, _ expected: String) {
        #expect(GoFloatFormat.f(value) == expected)
    }

    @Test func everyFormatRoundTrips() {
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<2000 {
            let value = Double(bitPattern: UInt64.random(in: 0...UInt64.max, using: &generator))
            guard value.isFinite else { continue }
            #expect(Double(GoFloatFormat.f(value)) == value)
            #expect(Double(GoFloatFormat.g(value)) == value)
        }
    }
}

struct SelectorExtractionTests {
    @Test func everySelectorOfAnExpressionInOrder() throws {
        let expr = try PromQLParser.parse("sum(rate(a{x=\"1\"}[5m])) / on() group_left b + max_over_time(c[1m:10s]) - -d")
        let names = expr.selectorMatchers.map { $0.first { $0.name == "__name__" }?.value ?? "" }
        #expect(names == ["a", "b", "c", "d"])
        #expect(expr.selectorMatchers[0].contains { $0.name == "x" && $0.value == "1" })
        #expect(try PromQLParser.parse("1 + 2").selectorMatchers.isEmpty)
    }
}
