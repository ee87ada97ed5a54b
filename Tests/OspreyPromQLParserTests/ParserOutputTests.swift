import OspreyModel
import OspreyPromQLParser
import Testing

struct GoFloatFormatEdgeTests {
    /// Expected strings are Go's `strconv.FormatFloat(v, 'f', -1, 64)`.
    @Test(arguments: [
        (100.0, "100"), (123.25, "123.25"), (0.1 + 0.2, "0.30000000000000004"), (-2.5, "-2.5"), (1e21, "1000000000000000000000"),
        (1.5e-7, "0.00000015"), (1e-5, "0.00001"), (9007199254740993.0, "9007199254740992"), (1.7976931348623157e308, "179769313486231570" + String(repeating: "0", count: 291)),
        (Double.nan, "NaN"), (Double.infinity, "+Inf"), (-Double.infinity, "-Inf"), (0.0, "0"), (-0.0, "-0"), (5e-324, "0." + String(repeating: "0", count: 323) + "5"),
    ] as [(Double, String)])
    func fixedNotation(_ value: Double, _ expected: String) {
        #expect(GoFloatFormat.f(value) == expected)
    }

    @Test(arguments: [(1e6, "1e+06"), (123456.0, "123456"), (1e-5, "1e-05"), (0.0001, "0.0001"), (1.5e300, "1.5e+300")] as [(Double, String)])
    func shortestNotation(_ value: Double, _ expected: String) {
        #expect(GoFloatFormat.g(value) == expected)
    }
}

struct ParseErrorPositionTests {
    @Test func multiLineQueriesReportLineAndColumn() {
        do {
            _ = try PromQLParser.parse("sum(\n  rate(x[5m]) +\n  )")
            Issue.record("expected a parse error")
        } catch {
            #expect(error.description.hasPrefix("3:3: parse error:"), "\(error.description)")
        }
    }
}
