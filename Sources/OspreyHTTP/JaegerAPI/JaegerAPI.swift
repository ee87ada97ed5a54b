import Foundation
import HTTPTypes
import Hummingbird
import OspreyModel
package import OspreyStorage

/// Jaeger's query HTTP API (v1), as the Jaeger UI and Grafana's Jaeger data source call it:
/// `/api/services`, `/api/services/{service}/operations`, `/api/operations`, `/api/traces`
/// (search), `/api/traces/{traceID}` and `/api/dependencies`, in the
/// `{data, total, limit, offset, errors}` envelope. Bad parameters get HTTP 400 with Jaeger's
/// `errors` list (Osprey is stricter than Jaeger, which ignores some); an unknown trace 404.
struct JaegerAPI: Sendable {
    let traces: any TraceReader
    /// Most spans returned per trace (`--traces.max-spans-per-trace`): a larger trace is cut to
    /// its earliest spans, with a warning, so one huge trace cannot stall the server or the UI.
    let maxSpansPerTrace: Int

    /// A trace's spans within the limit, and the warning when it was cut.
    static func limited(_ spans: [SpanRecord], to limit: Int) -> ([SpanRecord], [String]) {
        guard spans.count > limit else { return (spans, []) }
        return (Array(spans.prefix(limit)), ["trace has \(spans.count) spans; only the first \(limit) are shown (--traces.max-spans-per-trace)"])
    }

    func register(on router: Router<OspreyRequestContext>) {
        router.get("/api/services") { _, _ in
            respond { () throws(JaegerError) in
                let services = try storage { () throws(StorageError) in try traces.services() }
                return envelope(total: services.count) { $0.array { array in for name in services { array.string(name) } } }
            }
        }
        router.get("/api/services/:service/operations") { _, context in
            let service = context.parameters.get("service") ?? ""
            return respond { () throws(JaegerError) in
                let names = Set(try storage { () throws(StorageError) in try traces.operations(service: service, kind: nil) }.map(\.name)).sorted()
                return envelope(total: names.count) { $0.array { array in for name in names { array.string(name) } } }
            }
        }
        router.get("/api/operations") { request, _ in
            respond { () throws(JaegerError) in
                let query = JaegerQuery(request)
                guard let service = query["service"], !service.isEmpty else {
                    throw JaegerError.badRequest("parameter 'service' is required")
                }
                var kind: SpanKind?
                if let text = query["spanKind"], !text.isEmpty {
                    guard let parsed = SpanKind(jaegerName: text) else {
                        throw JaegerError.badRequest("unsupported spanKind \"\(text)\" (use server, client, producer, consumer or internal)")
                    }
                    kind = parsed
                }
                let operations = try storage { () throws(StorageError) in try traces.operations(service: service, kind: kind) }
                return envelope(total: operations.count) { writer in
                    writer.array { array in
                        for operation in operations {
                            array.element { element in
                                element.object { object in
                                    object.field("name", operation.name)
                                    object.field("spanKind", operation.kind.jaegerName)
                                }
                            }
                        }
                    }
                }
            }
        }
        router.get("/api/traces/:traceID") { _, context in
            let text = context.parameters.get("traceID") ?? ""
            return respond { () throws(JaegerError) in
                guard let id = TraceID(hex: text) else { throw JaegerError.badRequest("cannot parse traceID \"\(text)\": want 1 to 32 hex digits") }
                let spans = try storage { () throws(StorageError) in try traces.trace(id) }
                guard !spans.isEmpty else { throw JaegerError(status: .notFound, message: "trace not found") }
                let (shown, warnings) = Self.limited(spans, to: maxSpansPerTrace)
                return envelope(total: 0) { writer in writer.array { array in array.element { JaegerJSON.trace(shown, warnings: warnings, into: &$0) } } }
            }
        }
        router.get("/api/traces") { request, _ in
            respond { () throws(JaegerError) in
                let query = try JaegerSearchParameters.parse(JaegerQuery(request), nowMicros: Self.nowMicros())
                let ids = try storage { () throws(StorageError) in try traces.findTraceIDs(query) }
                var found: [[SpanRecord]] = []
                for id in ids {
                    let spans = try storage { () throws(StorageError) in try traces.trace(id) }
                    if !spans.isEmpty { found.append(spans) }  // never a trace without spans
                }
                return envelope(total: 0) { writer in
                    writer.array { array in
                        for spans in found {
                            let (shown, warnings) = Self.limited(spans, to: maxSpansPerTrace)
                            array.element { JaegerJSON.trace(shown, warnings: warnings, into: &$0) }
                        }
                    }
                }
            }
        }
        router.get("/api/dependencies") { request, _ in
            respond { () throws(JaegerError) in
                let query = JaegerQuery(request)
                let nowMs = Self.nowMicros() / 1000
                let endMs = try JaegerSearchParameters.integer(query, "endTs") ?? nowMs
                let lookbackMs = try JaegerSearchParameters.integer(query, "lookback") ?? 24 * 3600 * 1000
                guard endMs >= 0, lookbackMs >= 0 else { throw JaegerError.badRequest("endTs and lookback must not be negative") }
                let links = try storage { () throws(StorageError) in
                    try traces.dependencies(startNanos: UInt64(max(0, endMs - lookbackMs)) * 1_000_000, endNanos: UInt64(endMs) * 1_000_000)
                }
                return envelope(total: links.count) { writer in
                    writer.array { array in
                        for link in links {
                            array.element { element in
                                element.object { object in
                                    object.field("parent", link.parent)
                                    object.field("child", link.child)
                                    object.field("callCount", raw: String(link.callCount))
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    static func nowMicros() -> Int64 { Int64(Date().timeIntervalSince1970 * 1_000_000) }

    private func storage<T>(_ body: () throws(StorageError) -> T) throws(JaegerError) -> T {
        do {
            return try body()
        } catch {
            throw JaegerError(status: .internalServerError, message: error.description)
        }
    }

    private func respond(_ body: () throws(JaegerError) -> Response) -> Response {
        do {
            return try body()
        } catch {
            var json = JSONWriter()
            json.object { object in
                object.field("data", raw: "null")
                object.field("total", raw: "0")
                object.field("limit", raw: "0")
                object.field("offset", raw: "0")
                object.field("errors") { list in
                    list.array { array in
                        array.element { element in
                            element.object { entry in
                                entry.field("code", raw: String(error.status.code))
                                entry.field("msg", error.message)
                            }
                        }
                    }
                }
            }
            return json.response(status: error.status)
        }
    }

    private func envelope(total: Int, data: (inout JSONWriter) -> Void) -> Response {
        var json = JSONWriter()
        json.object { object in
            object.field("data", data)
            object.field("total", raw: String(total))
            object.field("limit", raw: "0")
            object.field("offset", raw: "0")
            object.field("errors", raw: "null")
        }
        return json.response()
    }
}

/// A request's query parameters, decoded as forms are (`+` and `%XX`).
struct JaegerQuery {
    let pairs: [(String, String)]

    init(_ request: Request) {
        pairs = FormDecoding.decode(request.uri.query ?? "")
    }

    subscript(_ name: String) -> String? { pairs.first { $0.0 == name }?.1 }

    func all(_ name: String) -> [String] { pairs.filter { $0.0 == name }.map(\.1) }
}

/// An error in Jaeger's shape.
struct JaegerError: Error {
    var status: HTTPResponse.Status
    var message: String

    static func badRequest(_ message: String) -> JaegerError { JaegerError(status: .badRequest, message: message) }
}

/// The parameters of `/api/traces` searches.
enum JaegerSearchParameters {
    static func parse(_ query: JaegerQuery, nowMicros: Int64) throws(JaegerError) -> TraceQuery {
        guard let service = query["service"], !service.isEmpty else {
            throw JaegerError.badRequest("parameter 'service' is required")
        }
        let endMicros = try integer(query, "end") ?? nowMicros
        var startMicros = try integer(query, "start")
        if startMicros == nil {
            var lookback: Int64 = 3600 * 1_000_000
            if let text = query["lookback"], !text.isEmpty, text != "custom" {
                guard let nanos = goDurationNanos(text) else { throw JaegerError.badRequest("cannot parse lookback \"\(text)\"") }
                lookback = nanos / 1000
            }
            startMicros = endMicros - lookback
        }
        guard let start = startMicros, start >= 0, endMicros >= start else {
            throw JaegerError.badRequest("start must not be after end, and neither may be negative")
        }
        var result = TraceQuery(serviceName: service, startTimeMinNanos: UInt64(start) * 1000, startTimeMaxNanos: UInt64(endMicros) * 1000)
        if let operation = query["operation"], !operation.isEmpty { result.operationName = operation }
        for (name, field) in [("minDuration", \TraceQuery.durationMinNanos), ("maxDuration", \TraceQuery.durationMaxNanos)] {
            guard let text = query[name], !text.isEmpty else { continue }
            guard let nanos = goDurationNanos(text), nanos >= 0 else {
                throw JaegerError.badRequest("cannot parse \(name) \"\(text)\": use a duration such as 100ms or 1.5s")
            }
            result[keyPath: field] = UInt64(nanos)
        }
        if let minimum = result.durationMinNanos, let maximum = result.durationMaxNanos, maximum < minimum {
            throw JaegerError.badRequest("maxDuration must not be smaller than minDuration")
        }
        if let text = query["limit"], !text.isEmpty {
            guard let limit = Int(text), limit >= 0 else { throw JaegerError.badRequest("cannot parse limit \"\(text)\": want a non-negative integer") }
            result.limit = limit == 0 ? 20 : limit
        }
        if let text = query["tags"], !text.isEmpty {
            result.attributes += try tags(text)
        }
        for entry in query.all("tag") {
            guard let colon = entry.firstIndex(of: ":") else { throw JaegerError.badRequest("malformed tag \"\(entry)\": want key:value") }
            result.attributes.append((key: String(entry[..<colon]), value: String(entry[entry.index(after: colon)...])))
        }
        return result
    }

    /// `tags` as a JSON object of strings, or as logfmt (`key=value key2="v 2"`).
    static func tags(_ text: String) throws(JaegerError) -> [(key: String, value: String)] {
        if text.hasPrefix("{") {
            guard let object = try? JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any] else {
                throw JaegerError.badRequest("malformed tags parameter: not a JSON object")
            }
            return object.sorted { $0.key < $1.key }.map { entry in
                let value: String
                switch entry.value {
                case let string as String: value = string
                case let number as NSNumber: value = number.stringValue
                default: value = "\(entry.value)"
                }
                return (key: entry.key, value: value)
            }
        }
        var pairs: [(key: String, value: String)] = []
        var rest = Substring(text)
        while true {
            rest = rest.drop { $0 == " " }
            guard !rest.isEmpty else { break }
            guard let equals = rest.firstIndex(of: "=") else { throw JaegerError.badRequest("malformed tags parameter \"\(text)\": want key=value pairs") }
            let key = String(rest[..<equals])
            rest = rest[rest.index(after: equals)...]
            var value = ""
            if rest.first == "\"" {
                rest = rest.dropFirst()
                guard let close = rest.firstIndex(of: "\"") else { throw JaegerError.badRequest("malformed tags parameter \"\(text)\": unclosed quote") }
                value = String(rest[..<close])
                rest = rest[rest.index(after: close)...]
            } else {
                let end = rest.firstIndex(of: " ") ?? rest.endIndex
                value = String(rest[..<end])
                rest = rest[end...]
            }
            pairs.append((key: key, value: value))
        }
        return pairs
    }

    static func integer(_ query: JaegerQuery, _ name: String) throws(JaegerError) -> Int64? {
        guard let text = query[name], !text.isEmpty else { return nil }
        guard let value = Int64(text) else { throw JaegerError.badRequest("cannot parse \(name) \"\(text)\": want an integer") }
        return value
    }

    /// A Go duration (`300ms`, `1.5h`, `2h45m`, `10us`, `10µs`) in ns.
    static func goDurationNanos(_ text: String) -> Int64? {
        let units: [(String, Double)] = [("ns", 1), ("us", 1e3), ("µs", 1e3), ("μs", 1e3), ("ms", 1e6), ("s", 1e9), ("m", 60e9), ("h", 3600e9)]
        var rest = Substring(text)
        var negative = false
        if rest.first == "-" || rest.first == "+" {
            negative = rest.first == "-"
            rest = rest.dropFirst()
        }
        if rest == "0" { return 0 }
        var total = 0.0
        guard !rest.isEmpty else { return nil }
        while !rest.isEmpty {
            let number = rest.prefix { $0.isNumber || $0 == "." }
            guard !number.isEmpty, let value = Double(number) else { return nil }
            rest = rest.dropFirst(number.count)
            guard let unit = units.filter({ rest.hasPrefix($0.0) }).max(by: { $0.0.count < $1.0.count }) else { return nil }
            rest = rest.dropFirst(unit.0.count)
            total += value * unit.1
        }
        guard total < 9.2e18 else { return nil }
        return Int64(negative ? -total : total)
    }
}
