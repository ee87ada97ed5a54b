import Dispatch
import Hummingbird
import OspreyModel
import OspreyPromQL
import OspreyPromQLParser

/// The JSON of query results, byte for byte as Prometheus writes it: timestamps as seconds with
/// up to three decimals, values as strings in Go's shortest form (`"NaN"`, `"+Inf"`).
enum QueryResultJSON {
    static func response(_ value: PromQLValue, limit: Int, report: QueryReport, stats: Bool, started: DispatchTime) -> Response {
        var warnings = report.warnings
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
        var json = JSONWriter()
        json.object { object in
            object.field("status", "success")
            object.field("data") { data in
                data.object { fields in
                    write(truncated, into: &fields)
                    if stats { fields.field("stats") { writeStats(report, elapsed: elapsed, into: &$0) } }
                }
            }
            if !warnings.isEmpty { object.field("warnings") { $0.array { for warning in warnings { $0.string(warning) } } } }
            if !report.infos.isEmpty { object.field("infos") { $0.array { for info in report.infos { $0.string(info) } } } }
        }
        return json.response()
    }

    private static func write(_ value: PromQLValue, into fields: inout JSONWriter.ObjectWriter) {
        switch value {
        case .scalar(let timestampMs, let number):
            fields.field("resultType", "scalar")
            fields.field("result") { point(&$0, timestampMs, GoFloatFormat.f(number)) }
        case .string(let timestampMs, let text):
            fields.field("resultType", "string")
            fields.field("result") { point(&$0, timestampMs, text) }
        case .vector(let elements):
            fields.field("resultType", "vector")
            fields.field("result") { writer in
                writer.array { array in
                    for element in elements {
                        array.element { item in
                            item.object { object in
                                object.field("metric") { metric(&$0, element.labels) }
                                object.field("value") { point(&$0, element.timestampMs, GoFloatFormat.f(element.value)) }
                            }
                        }
                    }
                }
            }
        case .matrix(let series):
            fields.field("resultType", "matrix")
            fields.field("result") { writer in
                writer.array { array in
                    for one in series {
                        array.element { item in
                            item.object { object in
                                object.field("metric") { metric(&$0, one.labels) }
                                object.field("values") { values in
                                    values.array { points in
                                        for sample in one.points {
                                            points.element { point(&$0, sample.timestampMs, GoFloatFormat.f(sample.value)) }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    private static func metric(_ writer: inout JSONWriter, _ labels: Labels) {
        writer.object { object in
            for label in labels { object.field(label.name, label.value) }
        }
    }

    private static func point(_ writer: inout JSONWriter, _ timestampMs: Int64, _ value: String) {
        writer.array { array in
            array.element { $0.raw(timestamp(timestampMs)) }
            array.string(value)
        }
    }

    /// Prometheus' `MarshalTimestamp`: whole seconds, then the milliseconds with leading zeros
    /// when not zero (`1.5` s is written `1.500`).
    static func timestamp(_ ms: Int64) -> String {
        let negative = ms < 0
        let magnitude = ms.magnitude
        var text = negative ? "-" : ""
        text += String(magnitude / 1000)
        let fraction = magnitude % 1000
        if fraction != 0 {
            text += "."
            if fraction < 100 { text += "0" }
            if fraction < 10 { text += "0" }
            text += String(fraction)
        }
        return text
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
