import Dispatch
import Hummingbird
import NIOCore
import OspreyModel
import OspreyPromQL
import OspreyPromQLParser

/// The JSON of query results, byte for byte as Prometheus writes it: timestamps as seconds with
/// up to three decimals, values as strings in Go's shortest form (`"NaN"`, `"+Inf"`).
enum QueryResultJSON {
    static func response(_ value: PromQLValue, limit: Int, report: QueryReport, stats: Bool, started: DispatchTime) -> Response {
        // At most 10 of each, as Prometheus' API, with a count of the rest.
        var warnings = capped(report.warnings, kind: "warning")
        let infos = capped(report.infos, kind: "info")
        var truncated = value
        if limit > 0 {
            switch value {
            case .vector(let elements) where elements.count > limit:
                truncated = .vector(Array(elements.prefix(limit)))
                warnings.append(APIEnvelope.truncatedWarning)
            case .matrix(let series) where series.count > limit:
                truncated = .matrix(Array(series.prefix(limit)))
                warnings.append(APIEnvelope.truncatedWarning)
            default:
                break
            }
        }
        let elapsed = Double(DispatchTime.now().uptimeNanoseconds - started.uptimeNanoseconds) / 1e9
        // Results can be large: written straight into one byte array.
        var out = JSONBytes()
        out.raw("{\"status\":\"success\",\"data\":{")
        write(truncated, into: &out)
        if stats {
            out.raw(",\"stats\":")
            var json = JSONWriter()
            writeStats(report, elapsed: elapsed, into: &json)
            out.raw(String(buffer: json.buffer))
        }
        out.raw("}")
        for (key, list) in [("warnings", warnings), ("infos", infos)] where !list.isEmpty {
            out.raw(",\"\(key)\":[")
            for (index, item) in list.enumerated() {
                if index > 0 { out.raw(",") }
                out.string(item)
            }
            out.raw("]")
        }
        out.raw("}")
        var buffer = ByteBuffer()
        buffer.writeBytes(out.bytes)
        return Response(status: .ok, headers: [.contentType: "application/json"], body: ResponseBody(byteBuffer: buffer))
    }

    static let maxAnnotations = 10

    private static func capped(_ annotations: [String], kind: String) -> [String] {
        guard annotations.count > maxAnnotations else { return annotations }
        return Array(annotations.prefix(maxAnnotations)) + ["\(annotations.count - maxAnnotations) more \(kind) annotations omitted"]
    }

    private static func write(_ value: PromQLValue, into out: inout JSONBytes) {
        switch value {
        case .scalar(let timestampMs, let number):
            out.raw("\"resultType\":\"scalar\",\"result\":")
            point(&out, timestampMs, number)
        case .string(let timestampMs, let text):
            out.raw("\"resultType\":\"string\",\"result\":[")
            out.timestamp(timestampMs)
            out.raw(",")
            out.string(text)
            out.raw("]")
        case .vector(let elements):
            out.raw("\"resultType\":\"vector\",\"result\":[")
            for (index, element) in elements.enumerated() {
                out.raw(index == 0 ? "{\"metric\":" : ",{\"metric\":")
                metric(&out, element.labels)
                out.raw(",\"value\":")
                point(&out, element.timestampMs, element.value)
                out.raw("}")
            }
            out.raw("]")
        case .matrix(let series):
            out.raw("\"resultType\":\"matrix\",\"result\":[")
            for (index, one) in series.enumerated() {
                out.raw(index == 0 ? "{\"metric\":" : ",{\"metric\":")
                metric(&out, one.labels)
                out.raw(",\"values\":[")
                for (pointIndex, sample) in one.points.enumerated() {
                    if pointIndex > 0 { out.raw(",") }
                    point(&out, sample.timestampMs, sample.value)
                }
                out.raw("]}")
            }
            out.raw("]")
        }
    }

    private static func metric(_ out: inout JSONBytes, _ labels: Labels) {
        out.raw("{")
        for (index, label) in labels.labels.enumerated() {
            if index > 0 { out.raw(",") }
            out.string(label.name)
            out.raw(":")
            out.string(label.value)
        }
        out.raw("}")
    }

    private static func point(_ out: inout JSONBytes, _ timestampMs: Int64, _ value: Double) {
        out.byte(UInt8(ascii: "["))
        out.timestamp(timestampMs)
        out.byte(UInt8(ascii: ","))
        out.byte(UInt8(ascii: "\""))
        out.float(value)
        out.byte(UInt8(ascii: "\""))
        out.byte(UInt8(ascii: "]"))
    }

    private static func writeStats(_ report: QueryReport, elapsed: Double, into writer: inout JSONWriter) {
        writer.object { object in
            object.field("timings") { timings in
                timings.object { fields in
                    fields.field("evalTotalTime", raw: GoFloatFormat.g(elapsed))
                    fields.field("resultSortTime", raw: "0")
                    fields.field("queryPreparationTime", raw: "0")
                    fields.field("innerEvalTime", raw: GoFloatFormat.g(elapsed))
                    fields.field("execQueueTime", raw: "0")
                    fields.field("execTotalTime", raw: GoFloatFormat.g(elapsed))
                }
            }
            object.field("samples") { samples in
                samples.object { fields in
                    fields.field("totalQueryableSamples", raw: String(report.totalQueryableSamples))
                    fields.field("peakSamples", raw: String(report.peakSamples))
                }
            }
        }
    }
}
