import Foundation
import OspreyWire
import SwiftProtobuf

/// Builds OTLP metric requests for the tests with the generated message types.
typealias MetricsRequest = Opentelemetry_Proto_Collector_Metrics_V1_ExportMetricsServiceRequest
typealias OTLPMetric = Opentelemetry_Proto_Metrics_V1_Metric
typealias NumberPoint = Opentelemetry_Proto_Metrics_V1_NumberDataPoint
typealias HistogramPoint = Opentelemetry_Proto_Metrics_V1_HistogramDataPoint
typealias ExponentialPoint = Opentelemetry_Proto_Metrics_V1_ExponentialHistogramDataPoint
typealias SummaryPoint = Opentelemetry_Proto_Metrics_V1_SummaryDataPoint
typealias KeyValue = Opentelemetry_Proto_Common_V1_KeyValue

enum OTLPBuild {
    static let second: UInt64 = 1_000_000_000
    /// A fixed "now" for the ingester: 2026-01-01T00:00:00Z.
    static let nowNs: UInt64 = 1_767_225_600 * second

    static func kv(_ key: String, _ value: String) -> KeyValue {
        var entry = KeyValue()
        entry.key = key
        entry.value.stringValue = value
        return entry
    }

    static func kv(_ key: String, int value: Int64) -> KeyValue {
        var entry = KeyValue()
        entry.key = key
        entry.value.intValue = value
        return entry
    }

    static func request(
        resource: [KeyValue] = [kv("service.name", "checkout"), kv("service.instance.id", "i-1")],
        scopeName: String = "shop", scopeVersion: String = "1.2", scopeAttributes: [KeyValue] = [], schemaURL: String = "",
        metrics: [OTLPMetric]
    ) -> MetricsRequest {
        var request = MetricsRequest()
        var resourceMetrics = Opentelemetry_Proto_Metrics_V1_ResourceMetrics()
        resourceMetrics.resource.attributes = resource
        var scope = Opentelemetry_Proto_Metrics_V1_ScopeMetrics()
        scope.scope.name = scopeName
        scope.scope.version = scopeVersion
        scope.scope.attributes = scopeAttributes
        scope.schemaURL = schemaURL
        scope.metrics = metrics
        resourceMetrics.scopeMetrics = [scope]
        request.resourceMetrics = [resourceMetrics]
        return request
    }

    static func number(_ value: Double, at seconds: UInt64, start: UInt64 = 0, attributes: [KeyValue] = [], flags: UInt32 = 0) -> NumberPoint {
        var point = NumberPoint()
        point.asDouble = value
        point.timeUnixNano = nowNs - 3600 * second + seconds * second
        point.startTimeUnixNano = start == 0 ? 0 : nowNs - 3600 * second + start * second
        point.attributes = attributes
        point.flags = flags
        return point
    }

    static func gauge(_ name: String, unit: String = "", help: String = "", _ points: [NumberPoint]) -> OTLPMetric {
        var metric = OTLPMetric()
        metric.name = name
        metric.unit = unit
        metric.description_p = help
        metric.gauge.dataPoints = points
        return metric
    }

    static func sum(_ name: String, unit: String = "", monotonic: Bool = true, delta: Bool = false, _ points: [NumberPoint]) -> OTLPMetric {
        var metric = OTLPMetric()
        metric.name = name
        metric.unit = unit
        metric.sum.dataPoints = points
        metric.sum.isMonotonic = monotonic
        metric.sum.aggregationTemporality = delta ? .delta : .cumulative
        return metric
    }

    static func histogram(_ name: String, unit: String = "", delta: Bool = false, _ points: [HistogramPoint]) -> OTLPMetric {
        var metric = OTLPMetric()
        metric.name = name
        metric.unit = unit
        metric.histogram.dataPoints = points
        metric.histogram.aggregationTemporality = delta ? .delta : .cumulative
        return metric
    }

    static func histogramPoint(at seconds: UInt64, bounds: [Double], counts: [UInt64], sum: Double?, attributes: [KeyValue] = []) -> HistogramPoint {
        var point = HistogramPoint()
        point.timeUnixNano = nowNs - 3600 * second + seconds * second
        point.explicitBounds = bounds
        point.bucketCounts = counts
        point.count = counts.reduce(0, +)
        if let sum { point.sum = sum }
        point.attributes = attributes
        return point
    }

    static func exponential(_ name: String, unit: String = "", delta: Bool = false, _ points: [ExponentialPoint]) -> OTLPMetric {
        var metric = OTLPMetric()
        metric.name = name
        metric.unit = unit
        metric.exponentialHistogram.dataPoints = points
        metric.exponentialHistogram.aggregationTemporality = delta ? .delta : .cumulative
        return metric
    }

    static func summary(_ name: String, _ points: [SummaryPoint]) -> OTLPMetric {
        var metric = OTLPMetric()
        metric.name = name
        metric.summary.dataPoints = points
        return metric
    }

    static func bytes(_ request: MetricsRequest) throws -> [UInt8] {
        try request.serializedBytes()
    }

    /// A length-delimited protobuf field, for hand-built (and hand-broken) messages.
    static func field(_ number: Int, _ payload: [UInt8]) -> [UInt8] {
        varint(number << 3 | 2) + varint(payload.count) + payload
    }

    /// A protobuf varint.
    static func varint(_ value: Int) -> [UInt8] {
        var out: [UInt8] = []
        var rest = UInt64(value)
        while rest >= 0x80 {
            out.append(UInt8(rest & 0x7F) | 0x80)
            rest >>= 7
        }
        out.append(UInt8(rest))
        return out
    }
}
