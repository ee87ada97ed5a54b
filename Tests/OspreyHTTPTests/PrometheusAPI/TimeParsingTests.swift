@testable import OspreyHTTP
import Testing

struct TimeParsingTests {
    @Test(arguments: [
        ("0", 0), ("1700000000", 1_700_000_000_000), ("1700000000.123", 1_700_000_000_123), ("-1.5", -1500),
        ("1700000000.1234", 1_700_000_000_123), ("2023-11-14T22:13:20Z", 1_700_000_000_000),
        ("2023-11-14T22:13:20.5Z", 1_700_000_000_500), ("2023-11-15T00:13:20+02:00", 1_700_000_000_000),
        ("1970-01-01T00:00:00.001Z", 1),
    ] as [(String, Int64)])
    func parsesUnixSecondsAndRFC3339(_ text: String, _ ms: Int64) {
        #expect(TimeParsing.parseTimestampMs(text) == ms)
    }

    @Test(arguments: ["", "abc", "2023-13-01T00:00:00Z", "2023-11-14 22:13:20Z", "2023-11-14T22:13:20", "NaN", "Inf", "0x10"])
    func rejectsOtherText(_ text: String) {
        #expect(TimeParsing.parseTimestampMs(text) == nil)
    }

    @Test func acceptsPrometheusBoundaryTimes() {
        #expect(TimeParsing.parseTimestampMs("-292273086-05-16T16:47:06Z") == TimeParsing.minTimeMs)
        #expect(TimeParsing.parseTimestampMs("292277025-08-18T07:12:54.999999999Z") == TimeParsing.maxTimeMs)
    }
}

struct FormDecodingTests {
    @Test func decodesPlusAndPercentEscapes() {
        let pairs = FormDecoding.decode("match%5B%5D=up%7Bjob%3D%22a+b%22%7D&match[]=x&limit=5&flag")
        #expect(pairs.map(\.0) == ["match[]", "match[]", "limit", "flag"])
        #expect(pairs.map(\.1) == ["up{job=\"a b\"}", "x", "5", ""])
    }

    @Test func parametersReportPrometheusErrors() throws {
        let parameters = APIParameters(values: [("start", "x"), ("limit", "-1"), ("match[]", "up{")])
        #expect(throws: APIError(.badData, "invalid parameter \"start\": cannot parse \"x\" to a valid timestamp")) {
            try parameters.timeRange()
        }
        #expect(throws: APIError(.badData, "invalid parameter \"limit\": limit must be non-negative")) { try parameters.limit() }
        #expect(throws: APIError.self) { try parameters.matcherSets() }
        let reversed = APIParameters(values: [("start", "10"), ("end", "5")])
        #expect(throws: APIError.self) { try reversed.timeRange() }
    }

    @Test func labelNamesInPathsMayBeEscaped() {
        #expect(LabelNameEscaping.unescape("U__service_2e_name") == "service.name")
        #expect(LabelNameEscaping.unescape("U__a__b") == "a_b")
        #expect(LabelNameEscaping.unescape("job") == "job")
    }
}
