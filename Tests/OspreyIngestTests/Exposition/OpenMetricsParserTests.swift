import OspreyIngest
import OspreyModel
import Testing

struct OpenMetricsParserTests {
    @Test func parsesTheSpecsCompleteExample() throws {
        let text = """
            # TYPE acme_http_router_request_seconds summary
            # UNIT acme_http_router_request_seconds seconds
            # HELP acme_http_router_request_seconds Latency though all of ACME's HTTP request router.
            acme_http_router_request_seconds_sum{path="/api/v1",method="GET"} 9036.32
            acme_http_router_request_seconds_count{path="/api/v1",method="GET"} 807283.0
            acme_http_router_request_seconds_created{path="/api/v1",method="GET"} 1605281325.0
            acme_http_router_request_seconds_sum{path="/api/v2",method="POST"} 479.3
            acme_http_router_request_seconds_count{path="/api/v2",method="POST"} 34.0
            acme_http_router_request_seconds_created{path="/api/v2",method="POST"} 1605281325.0
            # TYPE go_goroutines gauge
            # HELP go_goroutines Number of goroutines that currently exist.
            go_goroutines 69
            # TYPE process_cpu_seconds counter
            # UNIT process_cpu_seconds seconds
            # HELP process_cpu_seconds Total user and system CPU time spent in seconds.
            process_cpu_seconds_total 4.20072246e+06
            # EOF

            """
        let entries = try parseOpenMetrics(text)
        #expect(entries.count == 16)
        #expect(entries[0] == .type(family: "acme_http_router_request_seconds", type: .summary))
        #expect(entries[1] == .unit(family: "acme_http_router_request_seconds", unit: "seconds"))
        #expect(entries[2] == .help(family: "acme_http_router_request_seconds", text: "Latency though all of ACME's HTTP request router."))
        let all = samples(entries)
        #expect(all[0].labels == Labels(["__name__": "acme_http_router_request_seconds_sum", "path": "/api/v1", "method": "GET"]))
        #expect(all[0].value == 9036.32)
        #expect(all[0].family == "acme_http_router_request_seconds" && all[0].suffix == "_sum" && all[0].type == .summary)
        #expect(all[2].suffix == "_created" && all[2].value == 1_605_281_325)
        #expect(all[6].family == "go_goroutines" && all[6].suffix == "" && all[6].type == .gauge && all[6].value == 69)
        #expect(all[7].family == "process_cpu_seconds" && all[7].suffix == "_total" && all[7].value == 4_200_722.46)
        #expect(all.allSatisfy { $0.timestampMs == nil && $0.exemplar == nil })
    }

    @Test func histogramWithExemplarsAndTimestamps() throws {
        let text = """
            # TYPE foo histogram
            foo_bucket{le="0.01"} 0
            foo_bucket{le="0.1"} 8 # {} 0.054
            foo_bucket{le="1"} 11 # {trace_id="KOO5S4vxi0o"} 0.67
            foo_bucket{le="10"} 17 # {trace_id="oHg5SJYRHA0"} 9.8 1520879607.789
            foo_bucket{le="+Inf"} 17
            foo_count 17
            foo_sum 324789.3
            foo_created 1520430000.123
            # EOF
            """
        let all = samples(try parseOpenMetrics(text))
        #expect(all.count == 8)
        #expect(all[0].exemplar == nil)
        #expect(all[1].exemplar == ExpositionExemplar(labels: .empty, value: 0.054, timestampMs: nil))
        #expect(all[2].exemplar == ExpositionExemplar(labels: Labels(["trace_id": "KOO5S4vxi0o"]), value: 0.67, timestampMs: nil))
        #expect(all[3].exemplar?.timestampMs == 1_520_879_607_789)
        #expect(all[3].labels["le"] == "10" && all[3].suffix == "_bucket" && all[3].family == "foo" && all[3].type == .histogram)
        #expect(all[5].suffix == "_count" && all[6].suffix == "_sum" && all[7].suffix == "_created")
    }

    @Test func sampleTimestampsAreSecondsTruncatedToMillisecondsAsPrometheus() throws {
        let text = "# TYPE foo gauge\nfoo 17.0 1520879607.789\nfoo 18.0 -1.5\nfoo 19 1.0049\nfoo 20 1e3\n# EOF\n"
        let all = samples(try parseOpenMetrics(text))
        #expect(all.map(\.timestampMs) == [1_520_879_607_789, -1500, 1004, 1_000_000])
    }

    @Test(arguments: [
        ("foo 1 NaN\n", "invalid timestamp"),
        ("foo 1 +Inf\n", "invalid timestamp"),
        ("foo 1 1e300\n", "invalid timestamp"),
        ("foo 1 12a\n", "invalid timestamp"),
        ("foo 1  1\n", "expected a timestamp"),
    ])
    func badTimestampsAreRejected(line: String, message: String) throws {
        let error = try #require(openMetricsError("# TYPE foo gauge\n" + line + "# EOF\n"))
        #expect(error.line == 2)
        #expect(error.message.contains(message))
        #expect(error.lineText == String(line.dropLast()))
    }

    @Test func escapesInLabelValuesAndHelp() throws {
        let text = #"""
            # HELP foo a \\ b \n c \" d \t e
            foo{a="x\\y",b="q\"r",c="l1\nl2",d="\t"} 1
            # EOF
            """#
        let entries = try parseOpenMetrics(text)
        #expect(entries[0] == .help(family: "foo", text: "a \\ b \n c \" d \\t e"))
        let sample = try #require(samples(entries).first)
        #expect(sample.labels["a"] == "x\\y")
        #expect(sample.labels["b"] == "q\"r")
        #expect(sample.labels["c"] == "l1\nl2")
        #expect(sample.labels["d"] == "\\t")
    }

    @Test func infoStatesetGaugehistogramAndUnknown() throws {
        let text = """
            # TYPE build info
            build_info{name="pretty name",version="8.2.7"} 1
            # TYPE state stateset
            state{entity="controller",state="a"} 1.0
            state{entity="controller",state="bb"} 0.0
            # TYPE gh gaugehistogram
            gh_bucket{le="0.01"} 20.0
            gh_bucket{le="+Inf"} 42.0
            gh_gcount 42.0
            gh_gsum 3289.3
            # TYPE q summary
            q{quantile="0.95"} 123.7
            q{quantile="0.99"} 150.0
            untyped_thing{x="y"} 3
            # EOF
            """
        let all = samples(try parseOpenMetrics(text))
        #expect(all.map(\.family) == ["build", "state", "state", "gh", "gh", "gh", "gh", "q", "q", "untyped_thing"])
        #expect(all.map(\.suffix) == ["_info", "", "", "_bucket", "_bucket", "_gcount", "_gsum", "", "", ""])
        #expect(all.map(\.type) == [.info, .stateset, .stateset, .gaugehistogram, .gaugehistogram, .gaugehistogram, .gaugehistogram, .summary, .summary, .unknown])
    }

    @Test func specialValuesAndNumberForms() throws {
        let text = "a 1\nb -Inf\nc +Inf\nd NaN\ne 1e3\nf .5\ng 5.\nh 0042\ni inf\nj -infinity\nk 1E-2\n# EOF\n"
        let values = samples(try parseOpenMetrics(text)).map(\.value)
        #expect(values[0] == 1 && values[1] == -.infinity && values[2] == .infinity)
        #expect(values[3].bitPattern == 0x7ff8_0000_0000_0001)
        #expect(Array(values[4...]) == [1000, 0.5, 5, 42, .infinity, -.infinity, 0.01])
    }

    @Test func labelsAreSortedWithNameAndEmptyValuesDropped() throws {
        let sample = try #require(samples(try parseOpenMetrics("foo{z=\"1\",a=\"2\",e=\"\"} 1\n# EOF\n")).first)
        #expect(sample.labels.map(\.name) == ["__name__", "a", "z"])
        #expect(sample.labels.metricName == "foo")
    }

    @Test func eofMayLackItsLineFeedAndFinishes() throws {
        var parser = OpenMetricsParser(Array("foo 1\n# EOF".utf8), isComplete: true)
        #expect(try parser.next() != nil)
        #expect(parser.lineNumber == 1)
        #expect(try parser.next() == nil)
        #expect(parser.isFinished)
    }

    @Test(arguments: [
        ("foo 1\n", 2, "must end with \"# EOF\""),
        ("foo 1", 1, "must end with \"# EOF\""),
        ("", 1, "must end with \"# EOF\""),
        ("foo 1\n# EOF\nbar 2\n", 3, "unexpected data after # EOF"),
        ("foo 1\n# EOF\n\n", 3, "unexpected data after # EOF"),
        ("foo 1\n\n# EOF\n", 2, "empty line"),
        ("foo 1\r\n# EOF\n", 1, "carriage return"),
        ("# a comment\n# EOF\n", 1, "unexpected comment"),
        ("#TYPE foo gauge\n# EOF\n", 1, "unexpected comment"),
        ("# TYPE foo gauge\n# TYPE foo gauge\n# EOF\n", 2, "second # TYPE"),
        ("# TYPE foo bogus\n# EOF\n", 1, "invalid metric type \"bogus\""),
        ("# TYPE foo  gauge\n# EOF\n", 1, "invalid metric type"),
        ("# HELP foo\n# EOF\n", 1, "expected a space and text"),
        ("# TYPE 0foo gauge\n# EOF\n", 1, "invalid metric name"),
        ("# UNIT foo seconds\n# EOF\n", 1, "not a suffix"),
        ("# UNIT foo_seconds sec-onds\n# EOF\n", 1, "invalid character in unit"),
        ("0foo 1\n# EOF\n", 1, "expected a metric name"),
        ("foo{a=\"1\",a=\"2\"} 1\n# EOF\n", 1, "duplicate label name \"a\""),
        ("foo{__name__=\"x\"} 1\n# EOF\n", 1, "duplicate label name \"__name__\""),
        ("foo{a=\"1\",} 1\n# EOF\n", 1, "invalid label name"),
        ("foo{a=\"1\" } 1\n# EOF\n", 1, "expected \",\" or \"}\""),
        ("foo{a=1} 1\n# EOF\n", 1, "expected a quoted label value"),
        ("foo{a=\"1} 1\n# EOF\n", 1, "unterminated label value"),
        ("foo{0a=\"1\"} 1\n# EOF\n", 1, "invalid label name"),
        ("foo  1\n# EOF\n", 1, "expected a value"),
        ("foo 1x\n# EOF\n", 1, "invalid value \"1x\""),
        ("foo 0x1p3\n# EOF\n", 1, "invalid value"),
        ("foo 1_000\n# EOF\n", 1, "invalid value"),
        ("foo 1e400\n# EOF\n", 1, "invalid value"),
        ("foo +nan\n# EOF\n", 1, "invalid value"),
        ("foo\n# EOF\n", 1, "expected a space and a value"),
        ("foo-bar 1\n# EOF\n", 1, "invalid character '-'"),
        ("foo 1 2 3\n# EOF\n", 1, "expected end of line or an exemplar"),
        ("foo 1 \n# EOF\n", 1, "expected end of line or an exemplar"),
        ("{\"foo\"} 1\n# EOF\n", 1, "quoted metric names are not supported"),
    ])
    func malformedInputNamesTheLine(text: String, line: Int, message: String) throws {
        let error = try #require(openMetricsError(text))
        #expect(error.line == line)
        #expect(error.message.contains(message), "\(error)")
        #expect(error.description.hasPrefix("line \(line): "))
    }

    @Test(arguments: [
        ("# TYPE foo counter\nfoo 1\n", 2, "does not fit counter family"),
        ("# TYPE foo counter\nfoo_total -1\n", 2, "must not be negative"),
        ("# TYPE foo gauge\nfoo 1\n# HELP foo late\n", 3, "comes after its samples"),
        ("# TYPE a gauge\na 1\n# TYPE b gauge\nb 1\na 2\n", 5, "must not be interleaved"),
        ("# TYPE a gauge\na 1\n# TYPE b gauge\n# TYPE a gauge\n", 4, "must not be interleaved"),
        ("# TYPE a counter\na_total 1\n# TYPE b gauge\nb 1\na_created 2\n", 5, "must not be interleaved"),
        ("# TYPE h histogram\nh_bucket 1\n", 2, "lacks the \"le\" label"),
        ("# TYPE h histogram\nh_bucket{le=\"1\"} 1\nh_count 1\n", 3, "no le=\"+Inf\" bucket"),
        ("# TYPE h histogram\nh_bucket{le=\"1\"} 1\n", 3, "no le=\"+Inf\" bucket"),
        ("# TYPE h histogram\nh_bucket{le=\"2\"} 1\nh_bucket{le=\"1\"} 1\n", 3, "sorted by increasing le"),
        ("# TYPE h histogram\nh_bucket{le=\"1\"} 2\nh_bucket{le=\"+Inf\"} 1\n", 3, "cumulative"),
        ("# TYPE h histogram\nh_bucket{le=\"x\"} 1\n", 2, "not a number"),
        ("# TYPE h histogram\nh_count{le=\"1\"} 1\n", 2, "must not have an \"le\" label"),
        ("# TYPE s summary\ns 1\n", 2, "lacks the \"quantile\" label"),
        ("# TYPE s summary\ns{quantile=\"1.5\"} 1\n", 2, "between 0 and 1"),
        ("# TYPE s summary\ns_sum{quantile=\"0.5\"} 1\n", 2, "must not have a \"quantile\" label"),
        ("# TYPE i info\ni_info 2\n", 2, "info values must be 1"),
        ("# TYPE i info\ni 1\n", 2, "does not fit info family"),
        ("# TYPE st stateset\nst{x=\"a\"} 1\n", 2, "lacks the label \"st\""),
        ("# TYPE st stateset\nst{st=\"a\"} 2\n", 2, "must be 0 or 1"),
        ("# TYPE st_bytes stateset\n# UNIT st_bytes bytes\n", 2, "must not have a unit"),
        ("# TYPE g gauge\ng 1 # {a=\"b\"} 1\n", 2, "exemplars are allowed only"),
        ("# TYPE c counter\nc_created 1 # {a=\"b\"} 1\n", 2, "exemplars are allowed only"),
        ("# TYPE c counter\nc_total 1 # {a=\"\(String(repeating: "x", count: 128))\"} 1\n", 2, "the limit is 128"),
    ])
    func familyViolationsAreRejectedWhenValidating(text: String, line: Int, message: String) throws {
        let error = try #require(openMetricsError(text + "# EOF\n"))
        #expect(error.line == line)
        #expect(error.message.contains(message), "\(error)")
    }

    @Test func exemplarAtTheLimitIsAccepted() throws {
        let value = String(repeating: "é", count: 120)  // 120 code points; "tracex" and "ab" make 128
        let text = "# TYPE c counter\nc_total 1 # {tracex=\"\(value)\",ab=\"\"} 1\n# EOF\n"
        #expect(openMetricsError(text) == nil)
        let tooLong = "# TYPE c counter\nc_total 1 # {tracexy=\"\(value)\",ab=\"\"} 1\n# EOF\n"
        #expect(openMetricsError(tooLong)?.message.contains("129 characters") == true)
    }

    @Test func backfillModeAcceptsWhatPromtoolAccepts() throws {
        let text = """
            # TYPE requests_total counter
            # HELP requests_total Requests.
            requests_total{code="200"} 1 1000
            requests_total{code="200"} 2 1060
            # TYPE lat histogram
            lat_bucket{le="1"} 1 1000
            lat_count 1 1000
            no_type_at_all 5 1000
            requests_total{code="500"} 1 1000
            # EOF
            """
        #expect(openMetricsError(text) != nil)
        let all = samples(try parseOpenMetrics(text, validatesFamilies: false))
        #expect(all.count == 6)
        #expect(all[0].family == "requests_total" && all[0].type == .counter && all[0].suffix == "")
        #expect(all[0].timestampMs == 1_000_000)
        #expect(all[2].family == "lat" && all[2].suffix == "_bucket" && all[2].type == .histogram)
        #expect(all[3].family == "lat" && all[3].suffix == "_count")
        #expect(all[4].family == "no_type_at_all" && all[4].type == .unknown)
        #expect(all[5].family == "requests_total")
    }

    @Test func backfillModeStillRequiresSyntaxAndEOF() {
        #expect(openMetricsError("foo 1\n", validatesFamilies: false)?.message.contains("# EOF") == true)
        #expect(openMetricsError("foo{a=\"b\" 1\n# EOF\n", validatesFamilies: false)?.line == 1)
        #expect(openMetricsError("# UNIT foo seconds\n# EOF\n", validatesFamilies: false)?.message.contains("not a suffix") == true)
    }

    @Test func longLinesAreTruncatedInErrors() throws {
        let long = "foo{a=\"" + String(repeating: "ä", count: 400) + "\"} x\n# EOF\n"
        let error = try #require(openMetricsError(long))
        #expect(error.lineText.utf8.count <= ExpositionParseError.maxLineTextBytes + 3)
        #expect(error.lineText.hasSuffix("…"))
        #expect(error.description.hasPrefix("line 1: invalid value \"x\": foo{a=\""))
    }

    @Test func invalidUTF8InLabelValuesIsRejected() throws {
        var bytes = Array("foo{a=\"".utf8)
        bytes += [0xFF, 0xFE]
        bytes += Array("\"} 1\n# EOF\n".utf8)
        var parser = OpenMetricsParser(bytes, isComplete: true)
        #expect(throws: ExpositionParseError.self) { while try parser.next() != nil {} }
    }

    @Test func needsMoreInputUntilComplete() throws {
        var parser = OpenMetricsParser(Array("foo 1\nfo".utf8), isComplete: false)
        #expect(try parser.next() != nil)
        #expect(try parser.next() == nil)
        #expect(!parser.isFinished)
        parser.append(Array("o 2\n# EOF\n".utf8), isComplete: false)
        let second = try #require(try parser.next())
        #expect(render(second).contains("2"))
        #expect(parser.lineNumber == 2)
        #expect(try parser.next() == nil)
        #expect(parser.isFinished)
        parser.append(Array("x".utf8), isComplete: true)
        #expect(throws: ExpositionParseError.self) { try parser.next() }
    }
}
