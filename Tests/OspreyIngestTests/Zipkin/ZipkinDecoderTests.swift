import OspreyIngest
import OspreyModel
import Testing

struct ZipkinDecoderTests {
    @Test func decodesV2JSON() throws {
        let json = """
        [{"traceId":"5b8efff798038103d269b633813fc60c","id":"eee19b7ec3c1b174","parentId":"eee19b7ec3c1b173","name":"get /api",
          "kind":"SERVER","timestamp":1472470996199000,"duration":207000,
          "localEndpoint":{"serviceName":"backend","ipv4":"192.168.99.101","port":9000},
          "remoteEndpoint":{"serviceName":"frontend","ipv4":"172.19.0.2","port":58648},
          "annotations":[{"timestamp":1472470996238000,"value":"foo"}],
          "tags":{"http.method":"GET","error":"timeout","otel.status_code":"ERROR"}},
         {"traceId":"463ac35c9f6413ad","id":"72485a3953bb6124","timestamp":1,"duration":5}]
        """
        let batch = try ZipkinDecoder.decodeJSON(Array(json.utf8))
        #expect(batch.rejectedSpans == 0 && batch.spans.count == 2)
        let span = batch.spans[0]
        #expect(span.traceID.hex == "5b8efff798038103d269b633813fc60c")
        #expect(span.spanID.hex == "eee19b7ec3c1b174" && span.parentSpanID.hex == "eee19b7ec3c1b173")
        #expect(span.kind == .server && span.name == "get /api")
        #expect(span.startTimeUnixNano == 1_472_470_996_199_000_000 && span.durationNanos == 207_000_000)
        #expect(span.serviceName == "backend")
        #expect(span.status == SpanStatus(code: .error, message: "timeout"))
        #expect(span.attributes.contains(Attribute("http.method", .string("GET"))))
        #expect(span.attributes.contains(Attribute("peer.service", .string("frontend"))))
        #expect(span.attributes.contains(Attribute("net.peer.port", .int(58648))))
        #expect(span.events == [SpanEvent(timeUnixNano: 1_472_470_996_238_000_000, name: "foo")])
        // A 64-bit trace ID.
        #expect(batch.spans[1].traceID == TraceID(high: 0, low: 0x463a_c35c_9f64_13ad))
        #expect(batch.spans[1].serviceName == "unknown_service")
    }

    @Test func openTelemetryEventAnnotationsBecomeEventsWithAttributes() {
        let event = ZipkinDecoder.event(timeMicros: 5, value: "{\"retry\": {\"attempt\": 2, \"final\": true, \"why\": \"timeout\", \"wait\": 0.5}}")
        #expect(event.name == "retry" && event.timeUnixNano == 5000)
        #expect(event.attributes == [Attribute("attempt", .int(2)), Attribute("final", .bool(true)), Attribute("wait", .double(0.5)), Attribute("why", .string("timeout"))])
        #expect(ZipkinDecoder.event(timeMicros: 1, value: "{not json").name == "{not json")
        #expect(ZipkinDecoder.event(timeMicros: 1, value: "cs").name == "cs")
    }

    @Test func invalidSpansAreRejectedOneByOneAndGarbageIsAnError() throws {
        let json = """
        [{"traceId":"xyz","id":"0000000000000001","timestamp":1},{"traceId":"463ac35c9f6413ad","id":"72485a3953bb6124"},
         {"traceId":"463ac35c9f6413ad","id":"72485a3953bb6124","timestamp":7}]
        """
        let batch = try ZipkinDecoder.decodeJSON(Array(json.utf8))
        #expect(batch.spans.count == 1 && batch.rejectedSpans == 2)
        #expect(throws: IngestError.self) { try ZipkinDecoder.decodeJSON(Array("[{".utf8)) }
        #expect(throws: IngestError.self) { try ZipkinDecoder.decodeJSON(Array("{}".utf8)) }
    }

    @Test func decodesProto3ListOfSpans() throws {
        // Span{trace_id, id, kind CLIENT, name, timestamp, duration, local_endpoint{service_name, ipv4}, tags{k: v}}
        let trace: [UInt8] = Array(repeating: 1, count: 16)
        let id: [UInt8] = Array(repeating: 2, count: 8)
        var span: [UInt8] = OTLPBuild.field(1, trace) + OTLPBuild.field(3, id) + [0x20, 0x01] + OTLPBuild.field(5, Array("call".utf8))
        span += [0x31] + withUnsafeBytes(of: UInt64(1_000_000).littleEndian) { Array($0) }
        span += [0x38] + OTLPBuild.varint(250)
        span += OTLPBuild.field(8, OTLPBuild.field(1, Array("api".utf8)) + OTLPBuild.field(2, [10, 0, 0, 1]))
        span += OTLPBuild.field(11, OTLPBuild.field(1, Array("k".utf8)) + OTLPBuild.field(2, Array("v".utf8)))
        let batch = try ZipkinDecoder.decodeProtobuf(OTLPBuild.field(1, span))
        let record = try #require(batch.spans.first)
        #expect(record.traceID.hex == String(repeating: "01", count: 16) && record.spanID.hex == String(repeating: "02", count: 8))
        #expect(record.kind == .client && record.name == "call" && record.serviceName == "api")
        #expect(record.startTimeUnixNano == 1_000_000_000 && record.durationNanos == 250_000)
        #expect(record.resource.attributes.contains(Attribute("host.ip", .string("10.0.0.1"))))
        #expect(record.attributes == [Attribute("k", .string("v"))])
        #expect(throws: IngestError.self) { try ZipkinDecoder.decodeProtobuf([0x0a, 0x09, 0x0a]) }
    }
}
