import Foundation
import HTTPTypes
import Hummingbird
import OspreyModel
import OspreyStorage

/// Jaeger's API v3 over HTTP, as Jaeger's gateway for `jaeger.api_v3.QueryService` answers:
/// `/api/v3/services`, `/api/v3/operations`, `/api/v3/traces/{trace_id}` and `/api/v3/traces`
/// (with `query.*` parameters: lowerCamelCase such as `query.serviceName`, `query.startTimeMin`,
/// or their snake_case aliases), traces as OTLP/JSON under `result`, errors as
/// `{"error": {"grpcCode", "httpCode", "message", "httpStatus"}}`.
struct JaegerAPIv3: Sendable {
    let traces: any TraceReader

    func register(on router: Router<OspreyRequestContext>) {
        router.get("/api/v3/services") { _, _ in
            respond { () throws(JaegerError) in
                let services = try read { () throws(StorageError) in try traces.services() }
                return json { writer in
                    writer.object { object in
                        object.field("services") { list in list.array { array in for name in services { array.string(name) } } }
                    }
                }
            }
        }
        router.get("/api/v3/operations") { request, _ in
            respond { () throws(JaegerError) in
                let query = JaegerQuery(request)
                guard let service = query["service"], !service.isEmpty else { throw JaegerError.badRequest("service name must not be empty") }
                var kind: SpanKind?
                if let text = query["spanKind"] ?? query["span_kind"], !text.isEmpty {
                    guard let parsed = SpanKind(jaegerName: text) else {
                        throw JaegerError.badRequest("unsupported span kind \"\(text)\"")
                    }
                    kind = parsed
                }
                let operations = try read { () throws(StorageError) in try traces.operations(service: service, kind: kind) }
                return json { writer in
                    writer.object { object in
                        object.field("operations") { list in
                            list.array { array in
                                for operation in operations {
                                    array.element { element in
                                        element.object { fields in
                                            fields.field("name", operation.name)
                                            fields.field("spanKind", operation.kind.jaegerName)
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        router.get("/api/v3/traces/:traceID") { _, context in
            let text = context.parameters.get("traceID") ?? ""
            return respond { () throws(JaegerError) in
                guard let id = TraceID(hex: text), !id.isZero else { throw JaegerError.badRequest("malformed trace_id \"\(text)\"") }
                let spans = try read { () throws(StorageError) in try traces.trace(id) }
                guard !spans.isEmpty else { throw JaegerError(status: .notFound, message: "trace not found") }
                return json { writer in writer.object { object in object.field("result") { OTLPTraceJSON.tracesData(spans, into: &$0) } } }
            }
        }
        router.get("/api/v3/traces") { request, _ in
            respond { () throws(JaegerError) in
                let query = try Self.parse(JaegerQuery(request))
                let ids = try read { () throws(StorageError) in try traces.findTraceIDs(query) }
                var spans: [SpanRecord] = []
                for id in ids { spans += try read { () throws(StorageError) in try traces.trace(id) } }
                return json { writer in writer.object { object in object.field("result") { OTLPTraceJSON.tracesData(spans, into: &$0) } } }
            }
        }
    }

    /// The `query.*` parameters of `FindTraces`, lowerCamelCase or snake_case.
    static func parse(_ query: JaegerQuery) throws(JaegerError) -> TraceQuery {
        func value(_ camel: String, _ snake: String) -> String? {
            (query["query." + camel] ?? query["query." + snake]).flatMap { $0.isEmpty ? nil : $0 }
        }
        guard let service = value("serviceName", "service_name") else { throw JaegerError.badRequest("query.serviceName must not be empty") }
        guard let minText = value("startTimeMin", "start_time_min"), let maxText = value("startTimeMax", "start_time_max") else {
            throw JaegerError.badRequest("query.startTimeMin and query.startTimeMax are required")
        }
        guard let minimum = rfc3339Nanos(minText) else { throw JaegerError.badRequest("cannot parse query.startTimeMin \"\(minText)\": use RFC 3339") }
        guard let maximum = rfc3339Nanos(maxText) else { throw JaegerError.badRequest("cannot parse query.startTimeMax \"\(maxText)\": use RFC 3339") }
        guard maximum >= minimum else { throw JaegerError.badRequest("query.startTimeMax is before query.startTimeMin") }
        var result = TraceQuery(serviceName: service, startTimeMinNanos: minimum, startTimeMaxNanos: maximum)
        result.operationName = value("operationName", "operation_name")
        for (camel, snake, path) in [("durationMin", "duration_min", \TraceQuery.durationMinNanos), ("durationMax", "duration_max", \TraceQuery.durationMaxNanos)] {
            guard let text = value(camel, snake) else { continue }
            guard let nanos = JaegerSearchParameters.goDurationNanos(text), nanos >= 0 else {
                throw JaegerError.badRequest("cannot parse query.\(camel) \"\(text)\": use a duration such as 1.5s")
            }
            result[keyPath: path] = UInt64(nanos)
        }
        if let text = value("searchDepth", "search_depth") {
            guard let depth = Int(text), depth > 0 else { throw JaegerError.badRequest("query.searchDepth must be a positive integer") }
            result.limit = depth
        }
        // Attributes: query.attributes[key]=value, or query.attributes as a JSON object.
        for (name, text) in query.pairs where name.hasPrefix("query.attributes[") && name.hasSuffix("]") {
            result.attributes.append((key: String(name.dropFirst("query.attributes[".count).dropLast()), value: text))
        }
        if let text = query["query.attributes"], !text.isEmpty {
            result.attributes += try JaegerSearchParameters.tags(text)
        }
        return result
    }

    static func rfc3339Nanos(_ text: String) -> UInt64? {
        // Fractions beyond milliseconds are read exactly: split them off before parsing.
        var base = text
        var fraction: UInt64 = 0
        if let dot = text.firstIndex(of: "."), let zone = text[dot...].firstIndex(where: { $0 == "Z" || $0 == "+" || $0 == "-" }) {
            let digits = text[text.index(after: dot)..<zone]
            guard !digits.isEmpty, digits.count <= 9, digits.allSatisfy(\.isNumber), let value = UInt64(digits) else { return nil }
            fraction = value * UInt64(pow(10, Double(9 - digits.count)))
            base = String(text[..<dot]) + String(text[zone...])
        }
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime]
        guard let date = formatter.date(from: base), date.timeIntervalSince1970 >= 0 else { return nil }
        return UInt64(date.timeIntervalSince1970) * 1_000_000_000 + fraction
    }

    private func read<T>(_ body: () throws(StorageError) -> T) throws(JaegerError) -> T {
        do {
            return try body()
        } catch {
            throw JaegerError(status: .internalServerError, message: error.description)
        }
    }

    private func json(_ body: (inout JSONWriter) -> Void) -> Response {
        var writer = JSONWriter()
        body(&writer)
        return writer.response()
    }

    private func respond(_ body: () throws(JaegerError) -> Response) -> Response {
        do {
            return try body()
        } catch {
            let grpcCode: Int
            switch error.status {
            case .badRequest: grpcCode = 3
            case .notFound: grpcCode = 5
            default: grpcCode = 13
            }
            var writer = JSONWriter()
            writer.object { object in
                object.field("error") { inner in
                    inner.object { fields in
                        fields.field("grpcCode", raw: String(grpcCode))
                        fields.field("httpCode", raw: String(error.status.code))
                        fields.field("message", error.message)
                        fields.field("httpStatus", error.status.reasonPhrase)
                    }
                }
            }
            return writer.response(status: error.status)
        }
    }
}
