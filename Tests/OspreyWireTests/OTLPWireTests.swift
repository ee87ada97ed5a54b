import Foundation
import GRPCCore
import OspreyWire
import SwiftProtobuf
import Testing

/// The generated OTLP types read and write the wire format with the field numbers of the
/// OTLP specification (checked against bytes encoded by hand here, not by the generated code).
struct OTLPWireTests {
    private typealias Request = Opentelemetry_Proto_Collector_Metrics_V1_ExportMetricsServiceRequest

    // A minimal protobuf writer for the expected bytes.
    private func varint(_ value: UInt64) -> [UInt8] {
        var out: [UInt8] = []
        var rest = value
        while rest >= 0x80 {
            out.append(UInt8(rest & 0x7F) | 0x80)
            rest >>= 7
        }
        out.append(UInt8(rest))
        return out
    }

    private func message(_ field: UInt64, _ body: [UInt8]) -> [UInt8] { varint(field << 3 | 2) + varint(UInt64(body.count)) + body }
    private func string(_ field: UInt64, _ text: String) -> [UInt8] { message(field, Array(text.utf8)) }
    private func fixed64(_ field: UInt64, _ value: UInt64) -> [UInt8] {
        varint(field << 3 | 1) + (0..<8).map { UInt8(truncatingIfNeeded: value >> (8 * UInt64($0))) }
    }

    /// A gauge `challenges` of service `game` with one point: 42.5 at 1.7e18 ns.
    private var handEncoded: [UInt8] {
        let serviceName = message(1, string(1, "service.name") + message(2, string(1, "game")))  // Resource.attributes
        let point = fixed64(3, 1_700_000_000_000_000_000) + fixed64(4, (42.5).bitPattern)  // time_unix_nano, as_double
            + message(7, string(1, "room") + message(2, string(1, "blue")))  // attributes
        let metric = string(1, "challenges") + string(3, "1") + message(5, message(1, point))  // name, unit, gauge.data_points
        let scope = message(1, string(1, "game.meter") + string(2, "1.2")) + message(2, metric)  // scope, metrics
        return message(1, message(1, serviceName) + message(2, scope))  // resource_metrics: resource, scope_metrics
    }

    @Test func decodesHandEncodedMetricsWithTheSpecsFieldNumbers() throws {
        let request = try Request(serializedBytes: handEncoded)
        let resourceMetrics = try #require(request.resourceMetrics.first)
        #expect(resourceMetrics.resource.attributes.first?.key == "service.name")
        #expect(resourceMetrics.resource.attributes.first?.value.stringValue == "game")
        let scope = try #require(resourceMetrics.scopeMetrics.first)
        #expect(scope.scope.name == "game.meter" && scope.scope.version == "1.2")
        let metric = try #require(scope.metrics.first)
        #expect(metric.name == "challenges" && metric.unit == "1")
        let point = try #require(metric.gauge.dataPoints.first)
        #expect(point.timeUnixNano == 1_700_000_000_000_000_000)
        #expect(point.asDouble == 42.5)
        #expect(point.attributes.first?.key == "room" && point.attributes.first?.value.stringValue == "blue")
    }

    @Test func encodesFieldsInNumberOrderAsTheHandEncoding() throws {
        let request = try Request(serializedBytes: handEncoded)
        let bytes: [UInt8] = try request.serializedBytes()
        #expect(bytes == handEncoded)
    }

    @Test func grpcStubsServeTheCollectorMethodsExportersCall() {
        // The paths OTLP exporters call: /<service>/Export.
        #expect(Opentelemetry_Proto_Collector_Metrics_V1_MetricsService.Method.Export.descriptor.fullyQualifiedMethod
            == "opentelemetry.proto.collector.metrics.v1.MetricsService/Export")
        #expect(Opentelemetry_Proto_Collector_Trace_V1_TraceService.Method.Export.descriptor.fullyQualifiedMethod
            == "opentelemetry.proto.collector.trace.v1.TraceService/Export")
        #expect(Opentelemetry_Proto_Collector_Logs_V1_LogsService.Method.Export.descriptor.fullyQualifiedMethod
            == "opentelemetry.proto.collector.logs.v1.LogsService/Export")
    }
}
