import Foundation
import NIOCore
import OspreyModel

/// Writes spans in the Jaeger UI's JSON model (`model/json` of jaegertracing/jaeger), with
/// OpenTelemetry data mapped as Jaeger's OTLP translator maps it: the parent as a `CHILD_OF`
/// reference, links as `FOLLOWS_FROM`, the kind as `span.kind`, the status as `otel.status_code`,
/// `otel.status_description` and `error`, the scope as `otel.scope.name`/`otel.scope.version`,
/// events as logs (their name in the `event` field), the resource as the process.
enum JaegerJSON {
    /// Jaeger's trace ID text: 16 hex digits when the high half is zero, else 32.
    static func traceID(_ id: TraceID) -> String {
        id.high == 0 ? SpanID(id.low).hex : id.hex
    }

    /// One trace: `{"traceID", "spans", "processes", "warnings"}`.
    static func trace(_ spans: [SpanRecord], warnings: [String] = [], into writer: inout JSONWriter) {
        // Processes: one per distinct resource, p1, p2… in order of first appearance.
        var processIDs: [Resource: String] = [:]
        var processes: [(String, Resource)] = []
        for span in spans where processIDs[span.resource] == nil {
            let id = "p\(processes.count + 1)"
            processIDs[span.resource] = id
            processes.append((id, span.resource))
        }
        writer.object { object in
            object.field("traceID", spans.first.map { traceID($0.traceID) } ?? "")
            object.field("spans") { list in
                list.array { array in
                    for span in spans {
                        array.element { element in self.span(span, processID: processIDs[span.resource] ?? "p1", into: &element) }
                    }
                }
            }
            object.field("processes") { map in
                map.object { entries in
                    for (id, resource) in processes {
                        entries.field(id) { process in
                            process.object { fields in
                                fields.field("serviceName", resource.serviceName)
                                fields.field("tags") { tags in
                                    tags.array { array in
                                        for attribute in resource.attributes where attribute.key != "service.name" {
                                            array.element { self.tag(attribute.key, attribute.value, into: &$0) }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
            if warnings.isEmpty {
                object.field("warnings", raw: "null")
            } else {
                object.field("warnings") { list in list.array { array in for warning in warnings { array.string(warning) } } }
            }
        }
    }

    static func span(_ span: SpanRecord, processID: String, into writer: inout JSONWriter) {
        writer.object { object in
            object.field("traceID", traceID(span.traceID))
            object.field("spanID", span.spanID.hex)
            object.field("flags", raw: String(span.flags & 0xFF))
            object.field("operationName", span.name)
            object.field("references") { list in
                list.array { array in
                    if !span.parentSpanID.isZero {
                        array.element { reference("CHILD_OF", span.traceID, span.parentSpanID, into: &$0) }
                    }
                    for link in span.links {
                        array.element { reference("FOLLOWS_FROM", link.traceID, link.spanID, into: &$0) }
                    }
                }
            }
            object.field("startTime", raw: String(span.startTimeUnixNano / 1000))
            object.field("duration", raw: String(span.durationNanos / 1000))
            object.field("tags") { list in
                list.array { array in
                    for attribute in span.attributes {
                        array.element { tag(attribute.key, attribute.value, into: &$0) }
                    }
                    for (key, value) in derivedTags(span) {
                        array.element { tag(key, value, into: &$0) }
                    }
                }
            }
            object.field("logs") { list in
                list.array { array in
                    for event in span.events {
                        array.element { element in
                            element.object { log in
                                log.field("timestamp", raw: String(event.timeUnixNano / 1000))
                                log.field("fields") { fields in
                                    fields.array { items in
                                        items.element { tag("event", .string(event.name), into: &$0) }
                                        for attribute in event.attributes {
                                            items.element { tag(attribute.key, attribute.value, into: &$0) }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
            object.field("processID", processID)
            object.field("warnings", raw: "null")
        }
    }

    /// The tags Jaeger's OTLP translator adds to a span.
    static func derivedTags(_ span: SpanRecord) -> [(String, AttributeValue)] {
        var tags: [(String, AttributeValue)] = []
        if span.kind != .unspecified { tags.append(("span.kind", .string(span.kind.jaegerName))) }
        switch span.status.code {
        case .ok: tags.append(("otel.status_code", .string("OK")))
        case .error:
            tags.append(("otel.status_code", .string("ERROR")))
            tags.append(("error", .bool(true)))
        case .unset: break
        }
        if !span.status.message.isEmpty { tags.append(("otel.status_description", .string(span.status.message))) }
        if !span.scope.name.isEmpty { tags.append(("otel.scope.name", .string(span.scope.name))) }
        if !span.scope.version.isEmpty { tags.append(("otel.scope.version", .string(span.scope.version))) }
        if !span.traceState.isEmpty { tags.append(("w3c.tracestate", .string(span.traceState))) }
        return tags
    }

    static func reference(_ type: String, _ trace: TraceID, _ span: SpanID, into writer: inout JSONWriter) {
        writer.object { object in
            object.field("refType", type)
            object.field("traceID", traceID(trace))
            object.field("spanID", span.hex)
        }
    }

    /// A Jaeger key/value: `{"key", "type", "value"}` with Jaeger's types (`string`, `bool`,
    /// `int64`, `float64`, `binary`); arrays and maps are JSON text in a string, as Jaeger does.
    static func tag(_ key: String, _ value: AttributeValue, into writer: inout JSONWriter) {
        writer.object { object in
            object.field("key", key)
            switch value {
            case .string(let text):
                object.field("type", "string")
                object.field("value", text)
            case .bool(let flag):
                object.field("type", "bool")
                object.field("value", raw: flag ? "true" : "false")
            case .int(let number):
                object.field("type", "int64")
                object.field("value", raw: String(number))
            case .double(let number):
                object.field("type", "float64")
                if number.isFinite {
                    object.field("value", raw: GoFloatFormat.g(number))
                } else {
                    object.field("value", GoFloatFormat.g(number))
                }
            case .bytes(let bytes):
                object.field("type", "binary")
                object.field("value", base64(bytes))
            case .array, .map, .empty:
                object.field("type", "string")
                object.field("value", jsonText(value))
            }
        }
    }

    static func jsonText(_ value: AttributeValue) -> String {
        switch value {
        case .string(let text):
            var writer = JSONWriter()
            writer.string(text)
            return String(buffer: writer.buffer)
        case .bool(let flag): return flag ? "true" : "false"
        case .int(let number): return String(number)
        case .double(let number): return number.isFinite ? GoFloatFormat.g(number) : "null"
        case .bytes(let bytes): return "\"" + base64(bytes) + "\""
        case .array(let values): return "[" + values.map(jsonText).joined(separator: ",") + "]"
        case .map(let entries):
            return "{" + entries.map { entry in jsonText(.string(entry.key)) + ":" + jsonText(entry.value) }.joined(separator: ",") + "}"
        case .empty: return ""
        }
    }

    static func base64(_ bytes: [UInt8]) -> String {
        Data(bytes).base64EncodedString()
    }
}
