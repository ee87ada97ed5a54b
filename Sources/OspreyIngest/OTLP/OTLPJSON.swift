import Foundation
import OspreyWire
import SwiftProtobuf

/// OTLP/JSON bodies (the protobuf JSON mapping with OTLP's differences: trace and span IDs in
/// hex instead of base64; enums as names or numbers and 64-bit integers as strings or numbers,
/// both of which the standard mapping already accepts; unknown fields ignored), converted to
/// protobuf so that one translator serves both encodings.
package enum OTLPJSON {
    /// The protobuf encoding of an OTLP/JSON `ExportMetricsServiceRequest`.
    package static func metricsRequest(_ json: [UInt8]) throws(IngestError) -> [UInt8] {
        var options = JSONDecodingOptions()
        options.ignoreUnknownFields = true
        do {
            var request = try Opentelemetry_Proto_Collector_Metrics_V1_ExportMetricsServiceRequest(jsonUTF8Bytes: json, options: options)
            try fixExemplarIDs(&request)
            return try request.serializedBytes()
        } catch let error as IngestError {
            throw error
        } catch {
            throw IngestError(code: .badRequest, message: "OTLP/JSON: \(error)")
        }
    }

    /// The protobuf encoding of an OTLP/JSON `ExportTraceServiceRequest`.
    package static func tracesRequest(_ json: [UInt8]) throws(IngestError) -> [UInt8] {
        var options = JSONDecodingOptions()
        options.ignoreUnknownFields = true
        do {
            var request = try Opentelemetry_Proto_Collector_Trace_V1_ExportTraceServiceRequest(jsonUTF8Bytes: json, options: options)
            for r in request.resourceSpans.indices {
                for s in request.resourceSpans[r].scopeSpans.indices {
                    for i in request.resourceSpans[r].scopeSpans[s].spans.indices {
                        var span = request.resourceSpans[r].scopeSpans[s].spans[i]
                        span.traceID = try hexID(span.traceID, length: 16, field: "traceId")
                        span.spanID = try hexID(span.spanID, length: 8, field: "spanId")
                        span.parentSpanID = try hexID(span.parentSpanID, length: 8, field: "parentSpanId")
                        for l in span.links.indices {
                            span.links[l].traceID = try hexID(span.links[l].traceID, length: 16, field: "links.traceId")
                            span.links[l].spanID = try hexID(span.links[l].spanID, length: 8, field: "links.spanId")
                        }
                        request.resourceSpans[r].scopeSpans[s].spans[i] = span
                    }
                }
            }
            return try request.serializedBytes()
        } catch let error as IngestError {
            throw error
        } catch {
            throw IngestError(code: .badRequest, message: "OTLP/JSON: \(error)")
        }
    }

    private static func fixExemplarIDs(_ request: inout Opentelemetry_Proto_Collector_Metrics_V1_ExportMetricsServiceRequest) throws(IngestError) {
        for r in request.resourceMetrics.indices {
            for s in request.resourceMetrics[r].scopeMetrics.indices {
                for m in request.resourceMetrics[r].scopeMetrics[s].metrics.indices {
                    try fixExemplarIDs(&request.resourceMetrics[r].scopeMetrics[s].metrics[m])
                }
            }
        }
    }

    private static func fixExemplarIDs(_ metric: inout Opentelemetry_Proto_Metrics_V1_Metric) throws(IngestError) {
        switch metric.data {
        case .sum(var sum):
            for p in sum.dataPoints.indices { try fix(&sum.dataPoints[p].exemplars) }
            metric.data = .sum(sum)
        case .gauge(var gauge):
            for p in gauge.dataPoints.indices { try fix(&gauge.dataPoints[p].exemplars) }
            metric.data = .gauge(gauge)
        case .histogram(var histogram):
            for p in histogram.dataPoints.indices { try fix(&histogram.dataPoints[p].exemplars) }
            metric.data = .histogram(histogram)
        case .exponentialHistogram(var histogram):
            for p in histogram.dataPoints.indices { try fix(&histogram.dataPoints[p].exemplars) }
            metric.data = .exponentialHistogram(histogram)
        case .summary, nil:
            break
        }
    }

    private static func fix(_ exemplars: inout [Opentelemetry_Proto_Metrics_V1_Exemplar]) throws(IngestError) {
        for index in exemplars.indices {
            exemplars[index].traceID = try hexID(exemplars[index].traceID, length: 16, field: "traceId")
            exemplars[index].spanID = try hexID(exemplars[index].spanID, length: 8, field: "spanId")
        }
    }

    /// The ID a hex string in a `bytes` field stood for. The JSON decoder read the hex digits
    /// as base64 (every hex digit is a base64 character, and 32 or 16 digits are whole base64
    /// groups), so encoding the bytes back to base64 gives the digits again. A value of the
    /// right length already was base64, as some senders write it.
    static func hexID(_ decoded: Data, length: Int, field: String) throws(IngestError) -> Data {
        if decoded.isEmpty || decoded.count == length { return decoded }
        let digits = Array(decoded.base64EncodedString().utf8)
        guard digits.count == length * 2 else {
            throw IngestError(code: .badRequest, message: "OTLP/JSON: \(field) must be \(length * 2) hex digits")
        }
        var bytes = [UInt8]()
        bytes.reserveCapacity(length)
        var index = 0
        while index < digits.count {
            guard let high = hexValue(digits[index]), let low = hexValue(digits[index + 1]) else {
                throw IngestError(code: .badRequest, message: "OTLP/JSON: \(field) \"\(String(decoding: digits, as: UTF8.self))\" is not hex")
            }
            bytes.append(high << 4 | low)
            index += 2
        }
        return Data(bytes)
    }

    private static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return byte - UInt8(ascii: "A") + 10
        default: return nil
        }
    }
}
