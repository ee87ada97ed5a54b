import OspreyModel
import OspreyPromQLParser
import Testing

struct SeriesSelectorParserTests {
    @Test func parsesMetricNameAndMatchers() throws {
        let matchers = try SeriesSelectorParser.parse(#"http_requests_total{job="api", code=~"5..",method!="GET", path!~'/x'}"#)
        #expect(matchers.map(\.description) == [
            #"__name__="http_requests_total""#, #"job="api""#, #"code=~"5..""#, #"method!="GET""#, #"path!~"/x""#,
        ])
    }

    @Test func parsesBracesOnlyAndTrailingComma() throws {
        #expect(try SeriesSelectorParser.parse(#"{job="a",}"#).count == 1)
        #expect(try SeriesSelectorParser.parse(" up ").map(\.value) == ["up"])
        #expect(try SeriesSelectorParser.parse("up{}").count == 1)
    }

    @Test func parsesQuotedUTF8MetricNames() throws {
        let matchers = try SeriesSelectorParser.parse(#"{"http.server.duration", "service.name"="checkout"}"#)
        #expect(matchers.map(\.description) == [#"__name__="http.server.duration""#, #"service.name="checkout""#])
    }

    @Test func decodesEscapes() throws {
        #expect(try SeriesSelectorParser.parse(#"{a="x\ny\"z\u00e9"}"#).first?.value == "x\ny\"zé")
        #expect(try SeriesSelectorParser.parse(#"{a=`raw\n`}"#).first?.value == "raw\\n")
    }

    @Test(arguments: [
        "", "{}", #"{a=""}"#, #"{a=~".*"}"#, "up{", #"up{a="b""#, #"up{a:"b"}"#, #"up{a="b"} x"#, #"{a=~"("}"#, #"{a="unterminated}"#, "up{1=\"a\"}",
    ])
    func rejectsInvalidSelectors(_ input: String) {
        #expect(throws: PromQLParseError.self) { try SeriesSelectorParser.parse(input) }
    }

    @Test func errorsCarryPositions() {
        do {
            _ = try SeriesSelectorParser.parse(#"up{job="a" x}"#)
            Issue.record("expected an error")
        } catch {
            #expect(error.position == 11)
            #expect(error.description.hasPrefix("1:12: parse error:"))
        }
    }
}
