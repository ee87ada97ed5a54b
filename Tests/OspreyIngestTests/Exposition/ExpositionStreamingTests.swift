import OspreyIngest
import OspreyModel
import Testing

struct ExpositionStreamingTests {
    static let openMetricsText = """
        # TYPE acme_http_router_request_seconds summary
        # UNIT acme_http_router_request_seconds seconds
        # HELP acme_http_router_request_seconds Latency \\ through "the" router.\\n
        acme_http_router_request_seconds_sum{path="/api/v1",method="GET"} 9036.32 1605281325.5
        acme_http_router_request_seconds_count{path="/api/v1",method="GET"} 807283.0 1605281325.5
        acme_http_router_request_seconds_created{path="/api/v1",method="GET"} 1605281325.0
        # TYPE foo histogram
        foo_bucket{le="0.1",path="/ä\\"ö\\n"} 8 # {} 0.054
        foo_bucket{le="1",path="/ä\\"ö\\n"} 11 # {trace_id="KOO5S4vxi0o"} 0.67
        foo_bucket{le="+Inf",path="/ä\\"ö\\n"} 17 # {trace_id="oHg5SJYRHA0"} 9.8 1520879607.789
        foo_count{path="/ä\\"ö\\n"} 17
        foo_sum{path="/ä\\"ö\\n"} 324789.3
        # TYPE q gauge
        q NaN
        q{a="b"} -Inf 123
        # EOF

        """

    static let prometheusText = """
        # HELP http_requests_total The total number of HTTP requests.
        # TYPE http_requests_total counter
        http_requests_total{method="post",code="200"} 1027 1395066363000
        http_requests_total{ method="post", code="400", } 3 1395066363000

        # A comment
        msdos_file_access_time_seconds{path="C:\\\\DIR\\\\FILE.TXT",error="Cannot find file:\\n\\"FILE.TXT\\""} 1.458255915e9
        # TYPE rpc_duration_seconds summary
        rpc_duration_seconds{quantile="0.5"} 4773
        rpc_duration_seconds_sum 1.7560473e+07
        rpc_duration_seconds_count 2693
        metric_without_timestamp_and_labels 12.47

        """

    @Test func openMetricsSplitAtEveryByteGivesTheSameEntries() throws {
        let bytes = Array(Self.openMetricsText.utf8)
        let expected = try parseOpenMetrics(Self.openMetricsText).map(render)
        #expect(expected.count == 15)
        for split in 0...bytes.count {
            var parser = OpenMetricsParser(Array(bytes[..<split]), isComplete: false)
            var entries: [String] = []
            while let entry = try parser.next() { entries.append(render(entry)) }
            parser.append(Array(bytes[split...]), isComplete: true)
            while let entry = try parser.next() { entries.append(render(entry)) }
            #expect(entries == expected, "split at \(split)")
            #expect(parser.isFinished)
        }
    }

    @Test func openMetricsFedByteByByteGivesTheSameEntriesAndLineNumbers() throws {
        let bytes = Array(Self.openMetricsText.utf8)
        var whole = OpenMetricsParser(bytes, isComplete: true)
        var expected: [String] = []
        while let entry = try whole.next() { expected.append("\(whole.lineNumber) \(render(entry))") }
        var parser = OpenMetricsParser([], isComplete: false)
        var entries: [String] = []
        for (index, byte) in bytes.enumerated() {
            parser.append([byte], isComplete: index == bytes.count - 1)
            while let entry = try parser.next() { entries.append("\(parser.lineNumber) \(render(entry))") }
        }
        #expect(entries == expected)
        #expect(parser.isFinished)
    }

    @Test func prometheusTextSplitAtEveryByteGivesTheSameEntries() throws {
        let bytes = Array(Self.prometheusText.utf8)
        let expected = try parsePrometheusText(Self.prometheusText).map(render)
        #expect(expected.count == 10)
        for split in 0...bytes.count {
            var parser = PrometheusTextParser(Array(bytes[..<split]), isComplete: false)
            var entries: [String] = []
            while let entry = try parser.next() { entries.append(render(entry)) }
            parser.append(Array(bytes[split...]), isComplete: true)
            while let entry = try parser.next() { entries.append(render(entry)) }
            #expect(entries == expected, "split at \(split)")
        }
    }

    @Test func errorsInLaterChunksKeepCountingLines() throws {
        var parser = OpenMetricsParser(Array("a 1\nb 2\n".utf8), isComplete: false)
        while try parser.next() != nil {}
        parser.append(Array("c 3\nd x\n# EOF\n".utf8), isComplete: true)
        do {
            while try parser.next() != nil {}
            Issue.record("expected an error")
        } catch {
            #expect(error.line == 4)
            #expect(error.lineText == "d x")
        }
    }

    @Test func manyLinesInSmallChunksParseAll() throws {
        var text = "# TYPE c counter\n"
        for i in 0..<5000 { text += "c_total{instance=\"host-\(i % 50)\",shard=\"\(i)\"} \(i) \(i).5\n" }
        text += "# EOF\n"
        let bytes = Array(text.utf8)
        var parser = OpenMetricsParser([], isComplete: false)
        var count = 0
        var offset = 0
        while offset < bytes.count {
            let end = min(offset + 4093, bytes.count)
            parser.append(Array(bytes[offset..<end]), isComplete: end == bytes.count)
            offset = end
            while let entry = try parser.next() {
                if case .sample(let sample) = entry {
                    #expect(sample.value == Double(count))
                    #expect(sample.timestampMs == Int64(count) * 1000 + 500)
                    count += 1
                }
            }
        }
        #expect(count == 5000)
        #expect(parser.isFinished)
    }
}
