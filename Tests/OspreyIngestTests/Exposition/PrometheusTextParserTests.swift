import OspreyIngest
import OspreyModel
import Testing

struct PrometheusTextParserTests {
    @Test func parsesATypicalExposition() throws {
        let text = #"""
            # HELP go_gc_duration_seconds A summary of the GC invocation durations.
            # 	TYPE go_gc_duration_seconds summary
            go_gc_duration_seconds{quantile="0"} 4.9351e-05
            go_gc_duration_seconds{quantile="0.25",} 7.424100000000001e-05
            go_gc_duration_seconds_sum 1.8e-03
            go_gc_duration_seconds_count 99
            # Hello, a plain comment.
            #Another one
              
            # HELP http_requests_total Requests \\ and \n newline, "quoted" \\" kept.
            # TYPE http_requests_total counter
            http_requests_total{method="post",code="200"} 1027 1395066363000
            http_requests_total { method = "post" , code = "400" } 3   1395066363000
            # TYPE h histogram
            h_bucket{le="0.5"} 1
            h_bucket{le="+Inf"} 2
            h_sum 3
            h_count 2
            # TYPE u untyped
            u 1
            other_metric -Inf
            with_nan NaN

            """#
        let entries = try parsePrometheusText(text)
        #expect(entries[0] == .help(family: "go_gc_duration_seconds", text: "A summary of the GC invocation durations."))
        #expect(entries[1] == .type(family: "go_gc_duration_seconds", type: .summary))
        #expect(entries[6] == .help(family: "http_requests_total", text: "Requests \\ and \n newline, \"quoted\" \\\" kept."))
        let all = samples(entries)
        #expect(all.map(\.family) == [
            "go_gc_duration_seconds", "go_gc_duration_seconds", "go_gc_duration_seconds", "go_gc_duration_seconds",
            "http_requests_total", "http_requests_total", "h", "h", "h", "h", "u", "other_metric", "with_nan",
        ])
        #expect(all.map(\.suffix) == ["", "", "_sum", "_count", "", "", "_bucket", "_bucket", "_sum", "_count", "", "", ""])
        #expect(all[1].labels == Labels(["__name__": "go_gc_duration_seconds", "quantile": "0.25"]))
        #expect(all[5].labels == Labels(["__name__": "http_requests_total", "method": "post", "code": "400"]))
        #expect(all[5].timestampMs == 1_395_066_363_000 && all[5].value == 3)
        #expect(all[4].type == .counter && all[6].type == .histogram && all[10].type == .unknown && all[11].type == .unknown)
        #expect(all[11].value == -.infinity)
        #expect(all[12].value.bitPattern == 0x7ff8_0000_0000_0001)
    }

    @Test func lineNumbersCountSkippedLines() throws {
        var parser = PrometheusTextParser(Array("# c\n\nfoo 1\n".utf8), isComplete: true)
        _ = try parser.next()
        #expect(parser.lineNumber == 3)
    }

    @Test(arguments: [
        ("1", 1.0), ("-1.5", -1.5), (".5", 0.5), ("5.", 5), ("1e3", 1000), ("1E+03", 1000), ("+Inf", Double.infinity),
        ("inf", Double.infinity), ("-Infinity", -Double.infinity), ("INF", Double.infinity), ("0042", 42),
        ("1.7976931348623157e308", 1.7976931348623157e308), ("4.9e-324", Double.leastNonzeroMagnitude), ("1e-400", 0),
        ("123456789012345678901234567890", 1.2345678901234568e29), ("0.1", 0.1), ("3.14159265358979", 3.14159265358979),
    ])
    func floatsParseAsGoParseFloat(text: String, expected: Double) throws {
        let sample = try #require(samples(try parsePrometheusText("x \(text)\n")).first)
        #expect(sample.value == expected)
    }

    @Test(arguments: ["0x10", "0x1p3", "1_0", "1e", "e3", ".", "+", "-nan", "nan1", "infx", "1.2.3", "1e400", "--1", "1,5"])
    func floatsGoRejectsAreRejected(text: String) throws {
        let error = try #require(prometheusTextError("x \(text)\n"))
        #expect(error.message.contains("invalid value"))
        #expect(error.line == 1)
    }

    @Test(arguments: [
        ("foo 1 -1\n", "invalid timestamp"),
        ("foo 1 1.5\n", "invalid timestamp"),
        ("foo 1 99999999999999999999\n", "invalid timestamp"),
        ("foo 1 1 1\n", "expected end of line after the timestamp"),
        ("foo 1", "must end with a line feed"),
        ("foo 1\r\n", "carriage return"),
        ("foo{a=\"1\",,} 1\n", "invalid label name"),
        ("foo{,} 1\n", "invalid label name"),
        ("foo{a=\"1\"\n", "unterminated label set"),
        ("foo{a:b=\"1\"} 1\n", "expected \"=\""),
        ("foo{a=\"1\",a=\"2\"} 1\n", "duplicate label name"),
        ("foo{a=\"1\"}\n", "expected a value"),
        ("foo-bar 1\n", "invalid character '-'"),
        ("0foo 1\n", "expected a metric name"),
        ("# TYPE foo countr\n", "invalid metric type \"countr\""),
        ("# TYPE foo counter \n", "invalid metric type"),
        ("# TYPE foo{} counter\n", "invalid character in metric name"),
        ("# HELP 0foo x\n", "invalid metric name"),
    ])
    func malformedLinesAreRejected(text: String, message: String) throws {
        let error = try #require(prometheusTextError("ok 1\n" + text))
        #expect(error.line == 2)
        #expect(error.message.contains(message), "\(error)")
    }

    @Test func labelSetsAsPromparse() throws {
        let all = samples(try parsePrometheusText("a{} 1\nb{x=\"1\",} 2\nc{x=\"1\" y=\"2\"} 3\nd\t{x=\"a\\\\b\\\"c\\nd\\te\"}\t4\n"))
        #expect(all[0].labels == Labels(["__name__": "a"]))
        #expect(all[1].labels == Labels(["__name__": "b", "x": "1"]))
        #expect(all[2].labels == Labels(["__name__": "c", "x": "1", "y": "2"]))
        #expect(all[3].labels["x"] == "a\\b\"c\nd\\te")
    }

    @Test func commentsWithoutLineFeedAtTheEndAreFine() throws {
        let entries = try parsePrometheusText("foo 1\n# trailing")
        #expect(samples(entries).count == 1)
        #expect(try parsePrometheusText("").isEmpty)
        #expect(try parsePrometheusText("# HELP foo").first == .help(family: "foo", text: ""))
    }
}
