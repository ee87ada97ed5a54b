import Foundation
import OspreyIngest
import OspreyModel
import OspreyTestSupport
import OspreyWire
import SwiftProtobuf
import Testing

struct OTLPTraceDecoderTests {
    typealias Request = Opentelemetry_Proto_Collector_Trace_V1_ExportTraceServiceRequest
    typealias Span = Opentelemetry_Proto_Trace_V1_Span

    func span(trace: UInt8 = 1, id: UInt8 = 2, parent: UInt8? = 3, start: UInt64 = 1_000, end: UInt64 = 2_000) -> Span {
        var span = Span()
        span.traceID = Data(repeating: trace, count: 16)
        span.spanID = Data(repeating: id, count: 8)
        if let parent { span.parentSpanID = Data(repeating: parent, count: 8) }
        span.name = "GET /users"
        span.kind = .server
        span.startTimeUnixNano = start
        span.endTimeUnixNano = end
        span.flags = 0x301
        span.traceState = "k=v"
        return span
    }

    func request(_ spans: [Span]) -> Request {
        var request = Request()
        var resourceSpans = Opentelemetry_Proto_Trace_V1_ResourceSpans()
        resourceSpans.resource.attributes = [OTLPBuild.kv("service.name", "api"), OTLPBuild.kv("host.name", "h1")]
        resourceSpans.resource.droppedAttributesCount = 2
        var scopeSpans = Opentelemetry_Proto_Trace_V1_ScopeSpans()
        scopeSpans.scope.name = "lib"
        scopeSpans.scope.version = "1.0"
        scopeSpans.spans = spans
        resourceSpans.scopeSpans = [scopeSpans]
        request.resourceSpans = [resourceSpans]
        return request
    }

    @Test func decodesEveryField() throws {
        var full = span()
        var status = KeyValue()
        status.key = "http.status_code"
        status.value.intValue = 200
        var ratio = KeyValue()
        ratio.key = "ratio"
        ratio.value.doubleValue = 0.5
        var nested = KeyValue()
        nested.key = "list"
        var element = Opentelemetry_Proto_Common_V1_AnyValue()
        element.boolValue = true
        nested.value.arrayValue.values = [element]
        full.attributes = [OTLPBuild.kv("http.method", "GET"), status, ratio, nested]
        full.droppedAttributesCount = 1
        var event = Opentelemetry_Proto_Trace_V1_Span.Event()
        event.name = "exception"
        event.timeUnixNano = 1_500
        event.attributes = [OTLPBuild.kv("exception.message", "boom")]
        full.events = [event]
        full.droppedEventsCount = 3
        var link = Opentelemetry_Proto_Trace_V1_Span.Link()
        link.traceID = Data(repeating: 9, count: 16)
        link.spanID = Data(repeating: 8, count: 8)
        link.attributes = [OTLPBuild.kv("why", "retry")]
        full.links = [link]
        full.status.code = .error
        full.status.message = "failed"
        let batch = try OTLPTraceDecoder.decode(try request([full]).serializedBytes() as [UInt8])
        #expect(batch.rejectedSpans == 0)
        let record = try #require(batch.spans.first)
        #expect(record.traceID.hex == String(repeating: "01", count: 16))
        #expect(record.spanID.hex == String(repeating: "02", count: 8))
        #expect(record.parentSpanID.hex == String(repeating: "03", count: 8))
        #expect(record.name == "GET /users" && record.kind == .server && record.flags == 0x301 && record.traceState == "k=v")
        #expect(record.startTimeUnixNano == 1_000 && record.durationNanos == 1_000)
        #expect(record.attributes == [Attribute("http.method", .string("GET")), Attribute("http.status_code", .int(200)), Attribute("ratio", .double(0.5)), Attribute("list", .array([.bool(true)]))])
        #expect(record.droppedAttributesCount == 1 && record.droppedEventsCount == 3)
        #expect(record.events == [SpanEvent(timeUnixNano: 1_500, name: "exception", attributes: [Attribute("exception.message", .string("boom"))])])
        #expect(record.links.first?.traceID.hex == String(repeating: "09", count: 16))
        #expect(record.links.first?.attributes == [Attribute("why", .string("retry"))])
        #expect(record.status == SpanStatus(code: .error, message: "failed"))
        #expect(record.serviceName == "api")
        #expect(record.resource.droppedAttributesCount == 2)
        #expect(record.scope.name == "lib" && record.scope.version == "1.0")
    }

    @Test func invalidSpansAreRejectedOneByOne() throws {
        var badTrace = span()
        badTrace.traceID = Data(repeating: 0, count: 16)
        var shortSpan = span()
        shortSpan.spanID = Data([1, 2])
        let backwards = span(start: 5_000, end: 1_000)
        let root = span(id: 7, parent: nil)
        let batch = try OTLPTraceDecoder.decode(try request([badTrace, shortSpan, backwards, root]).serializedBytes() as [UInt8])
        #expect(batch.spans.count == 1 && batch.spans[0].parentSpanID.isZero)
        #expect(batch.rejectedSpans == 3)
        #expect(batch.errorMessage.contains("trace_id") && batch.errorMessage.contains("span_id") && batch.errorMessage.contains("ends before"))
    }

    @Test func malformedAndDeeplyNestedInputIsAnError() async throws {
        #expect(throws: IngestError.self) { try OTLPTraceDecoder.decode([0x0a, 0x05, 0x12]) }
        // An attribute value nested 10,000 deep must fail cleanly, not overflow the stack.
        let keyValue = [0x0a, 0x01, 0x61] + OTLPBuild.field(2, deepValue(10_000))
        let traces = OTLPBuild.field(1, OTLPBuild.field(1, OTLPBuild.field(1, keyValue)))  // ResourceSpans{resource{attributes}}
        #expect(throws: IngestError.self) { try OTLPTraceDecoder.decode(traces) }
        // The metrics translator renders attribute values too: a gauge point with that attribute.
        let point = OTLPBuild.field(7, keyValue) + [0x19] + withUnsafeBytes(of: (OTLPBuild.nowNs - 60 * OTLPBuild.second).littleEndian) { Array($0) } + [0x21, 0, 0, 0, 0, 0, 0, 0xF0, 0x3F]
        let metric = OTLPBuild.field(1, Array("g".utf8)) + OTLPBuild.field(5, OTLPBuild.field(1, point))
        let metrics = OTLPBuild.field(1, OTLPBuild.field(2, OTLPBuild.field(2, metric)))  // ResourceMetrics{scope_metrics{metrics}}
        await #expect(throws: IngestError.self) {
            try await OTLPMetricsIngester().ingest(metrics, into: ReferenceStore().appender(), nowNs: OTLPBuild.nowNs)
        }
    }

    /// `AnyValue{array_value: ArrayValue{values: [AnyValue{…}]}}`, `depth` levels.
    func deepValue(_ depth: Int) -> [UInt8] {
        var value: [UInt8] = []
        for _ in 0..<depth { value = OTLPBuild.field(5, OTLPBuild.field(1, value)) }
        return value
    }


}
