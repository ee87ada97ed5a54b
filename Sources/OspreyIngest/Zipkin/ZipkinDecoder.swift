import Foundation
package import OspreyModel

/// Zipkin spans (the v2 model: `zipkin2.Span` in JSON and in `zipkin.proto3` protobuf) mapped to
/// ``SpanRecord``s as the OpenTelemetry Collector's Zipkin receiver maps them:
/// - `localEndpoint.serviceName` becomes the resource's `service.name`;
/// - `remoteEndpoint` becomes `peer.service`, `net.peer.ip` and `net.peer.port`;
/// - tags become string attributes; `error`, `otel.status_code` and `otel.status_description`
///   tags set the status instead (an `error` value other than `true` is the message);
/// - annotations become events; `kind` the span kind; times are µs.
/// Invalid spans (IDs of the wrong length, no timestamp) are rejected one by one.
package enum ZipkinDecoder {
    /// Spans of a JSON array of v2 spans.
    package static func decodeJSON(_ body: [UInt8]) throws(IngestError) -> OTLPTraceBatch {
        let parsed: Any
        do {
            parsed = try JSONSerialization.jsonObject(with: Data(body))
        } catch {
            throw IngestError(code: .badRequest, message: "Zipkin JSON: \(error.localizedDescription)")
        }
        guard let list = parsed as? [Any] else {
            throw IngestError(code: .badRequest, message: "Zipkin JSON: expected an array of spans")
        }
        var batch = OTLPTraceBatch()
        for item in list {
            guard let object = item as? [String: Any] else {
                batch.reject("a span that is not a JSON object")
                continue
            }
            switch span(fromJSON: object) {
            case .success(let span): batch.spans.append(span)
            case .failure(let reason): batch.reject(reason.message)
            }
        }
        return batch
    }

    struct Reason: Error {
        var message: String
    }

    private static func span(fromJSON object: [String: Any]) -> Result<SpanRecord, Reason> {
        guard let traceText = object["traceId"] as? String, (traceText.count == 16 || traceText.count == 32),
              let traceID = TraceID(hex: traceText), !traceID.isZero else {
            return .failure(Reason(message: "traceId must be 16 or 32 hex digits"))
        }
        guard let idText = object["id"] as? String, idText.count == 16, let spanID = SpanID(hex: idText), !spanID.isZero else {
            return .failure(Reason(message: "id must be 16 hex digits"))
        }
        var parent = SpanID(0)
        if let parentText = object["parentId"] as? String, !parentText.isEmpty {
            guard parentText.count == 16, let parsed = SpanID(hex: parentText) else { return .failure(Reason(message: "parentId must be 16 hex digits")) }
            parent = parsed
        }
        guard let timestamp = integer(object["timestamp"]), timestamp > 0 else {
            return .failure(Reason(message: "span without a timestamp"))
        }
        let duration = integer(object["duration"]) ?? 0
        guard duration >= 0 else { return .failure(Reason(message: "negative duration")) }
        let local = object["localEndpoint"] as? [String: Any]
        let remote = object["remoteEndpoint"] as? [String: Any]
        var tags: [(String, String)] = []
        if let map = object["tags"] as? [String: Any] {
            for (key, value) in map.sorted(by: { $0.key < $1.key }) { tags.append((key, "\(value)")) }
        }
        var annotations: [(UInt64, String)] = []
        for item in object["annotations"] as? [Any] ?? [] {
            guard let annotation = item as? [String: Any], let time = integer(annotation["timestamp"]), let value = annotation["value"] as? String else { continue }
            annotations.append((UInt64(max(0, time)), value))
        }
        return .success(record(
            traceID: traceID, spanID: spanID, parent: parent, name: object["name"] as? String ?? "", kind: object["kind"] as? String,
            timestampMicros: UInt64(timestamp), durationMicros: UInt64(duration),
            local: endpoint(local), remote: endpoint(remote), tags: tags, annotations: annotations))
    }

    struct Endpoint {
        var serviceName = ""
        var ip = ""
        var port: Int64 = 0
    }

    private static func endpoint(_ object: [String: Any]?) -> Endpoint? {
        guard let object else { return nil }
        var endpoint = Endpoint()
        endpoint.serviceName = object["serviceName"] as? String ?? ""
        endpoint.ip = object["ipv4"] as? String ?? object["ipv6"] as? String ?? ""
        endpoint.port = integer(object["port"]) ?? 0
        return endpoint
    }

    private static func integer(_ value: Any?) -> Int64? {
        switch value {
        case let number as NSNumber: return number.int64Value
        case let text as String: return Int64(text)
        default: return nil
        }
    }

    /// One span in the model, from Zipkin's fields.
    static func record(
        traceID: TraceID, spanID: SpanID, parent: SpanID, name: String, kind: String?, timestampMicros: UInt64, durationMicros: UInt64,
        local: Endpoint?, remote: Endpoint?, tags: [(String, String)], annotations: [(UInt64, String)]
    ) -> SpanRecord {
        var resourceAttributes = [Attribute("service.name", .string(local.map { $0.serviceName.isEmpty ? "unknown_service" : $0.serviceName } ?? "unknown_service"))]
        if let local, !local.ip.isEmpty { resourceAttributes.append(Attribute("host.ip", .string(local.ip))) }
        var attributes: [Attribute] = []
        var status = SpanStatus()
        for (key, value) in tags {
            switch key {
            case "error":
                status.code = .error
                if status.message.isEmpty && value != "true" { status.message = value }
            case "otel.status_code":
                if value == "ERROR" { status.code = .error } else if value == "OK" && status.code != .error { status.code = .ok }
            case "otel.status_description":
                status.message = value
            default:
                attributes.append(Attribute(key, .string(value)))
            }
        }
        if let remote {
            if !remote.serviceName.isEmpty { attributes.append(Attribute("peer.service", .string(remote.serviceName))) }
            if !remote.ip.isEmpty { attributes.append(Attribute("net.peer.ip", .string(remote.ip))) }
            if remote.port != 0 { attributes.append(Attribute("net.peer.port", .int(remote.port))) }
        }
        let spanKind: SpanKind
        switch kind?.uppercased() {
        case "SERVER": spanKind = .server
        case "CLIENT": spanKind = .client
        case "PRODUCER": spanKind = .producer
        case "CONSUMER": spanKind = .consumer
        default: spanKind = .unspecified
        }
        let start = timestampMicros &* 1000
        return SpanRecord(
            traceID: traceID, spanID: spanID, parentSpanID: parent, name: name, kind: spanKind,
            startTimeUnixNano: start, endTimeUnixNano: start &+ durationMicros &* 1000, attributes: attributes,
            events: annotations.map { event(timeMicros: $0.0, value: $0.1) }, status: status,
            resource: Resource(attributes: resourceAttributes), scope: InstrumentationScope(name: "zipkin"))
    }

    /// An annotation as an event. OpenTelemetry's Zipkin exporters write an event with attributes
    /// as the JSON object `{"name": {attributes}}`; it is read back as such, as the
    /// OpenTelemetry Collector's Zipkin receiver does.
    package static func event(timeMicros: UInt64, value: String) -> SpanEvent {
        let time = timeMicros &* 1000
        guard value.hasPrefix("{"), let object = try? JSONDecoder().decode([String: [String: JSONScalar]].self, from: Data(value.utf8)),
              object.count == 1, let (name, fields) = object.first else {
            return SpanEvent(timeUnixNano: time, name: value)
        }
        let attributes = fields.sorted { $0.key < $1.key }.map { Attribute($0.key, $0.value.value) }
        return SpanEvent(timeUnixNano: time, name: name, attributes: attributes)
    }

    /// A JSON scalar as an attribute value (JSONDecoder tells booleans from numbers).
    struct JSONScalar: Decodable {
        var value: AttributeValue

        init(from decoder: any Decoder) throws {
            let container = try decoder.singleValueContainer()
            if let flag = try? container.decode(Bool.self) {
                value = .bool(flag)
            } else if let number = try? container.decode(Int64.self) {
                value = .int(number)
            } else if let number = try? container.decode(Double.self) {
                value = .double(number)
            } else {
                value = .string(try container.decode(String.self))
            }
        }
    }

    // MARK: - Protobuf (zipkin.proto3)

    /// Spans of a `ListOfSpans` message (`spans` = 1).
    package static func decodeProtobuf(_ body: [UInt8]) throws(IngestError) -> OTLPTraceBatch {
        let result = body.withUnsafeBytes { bytes in
            Result { () throws(IngestError) -> OTLPTraceBatch in
                var batch = OTLPTraceBatch()
                var reader = ProtoReader(bytes)
                while !reader.isAtEnd {
                    let (field, wire) = try reader.readTag()
                    guard field == 1 else {
                        try reader.skip(wire)
                        continue
                    }
                    try reader.expect(wire, .lengthDelimited, field: field)
                    var message = try reader.readMessage()
                    switch try span(fromProtobuf: &message) {
                    case .success(let span): batch.spans.append(span)
                    case .failure(let reason): batch.reject(reason.message)
                    }
                }
                return batch
            }
        }
        return try result.get()
    }

    /// A `Span`: trace_id 1, parent_id 2, id 3, kind 4, name 5, timestamp 6 (fixed64 µs),
    /// duration 7 (µs), local_endpoint 8, remote_endpoint 9, annotations 10, tags 11 (map), debug 12, shared 13.
    private static func span(fromProtobuf reader: inout ProtoReader) throws(IngestError) -> Result<SpanRecord, Reason> {
        var traceBytes: [UInt8] = []
        var idBytes: [UInt8] = []
        var parentBytes: [UInt8] = []
        var kind: String?
        var name = ""
        var timestamp: UInt64 = 0
        var duration: UInt64 = 0
        var local: Endpoint?
        var remote: Endpoint?
        var annotations: [(UInt64, String)] = []
        var tags: [(String, String)] = []
        while !reader.isAtEnd {
            let (field, wire) = try reader.readTag()
            switch field {
            case 1, 2, 3:
                try reader.expect(wire, .lengthDelimited, field: field)
                let bytes = Array(reader.bytes(try reader.readLengthDelimitedRange()))
                if field == 1 { traceBytes = bytes } else if field == 2 { parentBytes = bytes } else { idBytes = bytes }
            case 4:
                try reader.expect(wire, .varint, field: field)
                kind = ["", "CLIENT", "SERVER", "PRODUCER", "CONSUMER"][Int(min(4, try reader.readVarint()))]
            case 5:
                try reader.expect(wire, .lengthDelimited, field: field)
                name = try reader.readString()
            case 6:
                try reader.expect(wire, .fixed64, field: field)
                timestamp = try reader.readFixed64()
            case 7:
                try reader.expect(wire, .varint, field: field)
                duration = try reader.readVarint()
            case 8, 9:
                try reader.expect(wire, .lengthDelimited, field: field)
                var message = try reader.readMessage()
                var endpoint = Endpoint()
                while !message.isAtEnd {
                    let (endpointField, endpointWire) = try message.readTag()
                    switch endpointField {
                    case 1:
                        try message.expect(endpointWire, .lengthDelimited, field: endpointField)
                        endpoint.serviceName = try message.readString()
                    case 2, 3:
                        try message.expect(endpointWire, .lengthDelimited, field: endpointField)
                        let address = Array(message.bytes(try message.readLengthDelimitedRange()))
                        endpoint.ip = address.count == 4 ? address.map(String.init).joined(separator: ".") : address.map { String($0, radix: 16) }.joined(separator: ":")
                    case 4:
                        try message.expect(endpointWire, .varint, field: endpointField)
                        endpoint.port = Int64(truncatingIfNeeded: try message.readVarint())
                    default:
                        try message.skip(endpointWire)
                    }
                }
                if field == 8 { local = endpoint } else { remote = endpoint }
            case 10:
                try reader.expect(wire, .lengthDelimited, field: field)
                var message = try reader.readMessage()
                var time: UInt64 = 0
                var value = ""
                while !message.isAtEnd {
                    let (annotationField, annotationWire) = try message.readTag()
                    switch annotationField {
                    case 1:
                        try message.expect(annotationWire, .fixed64, field: annotationField)
                        time = try message.readFixed64()
                    case 2:
                        try message.expect(annotationWire, .lengthDelimited, field: annotationField)
                        value = try message.readString()
                    default: try message.skip(annotationWire)
                    }
                }
                annotations.append((time, value))
            case 11:
                try reader.expect(wire, .lengthDelimited, field: field)
                var entry = try reader.readMessage()
                var key = ""
                var value = ""
                while !entry.isAtEnd {
                    let (entryField, entryWire) = try entry.readTag()
                    switch entryField {
                    case 1:
                        try entry.expect(entryWire, .lengthDelimited, field: entryField)
                        key = try entry.readString()
                    case 2:
                        try entry.expect(entryWire, .lengthDelimited, field: entryField)
                        value = try entry.readString()
                    default: try entry.skip(entryWire)
                    }
                }
                tags.append((key, value))
            default:
                try reader.skip(wire)
            }
        }
        guard (traceBytes.count == 8 || traceBytes.count == 16), let traceID = TraceID(bytes: traceBytes), !traceID.isZero else {
            return .failure(Reason(message: "trace_id must be 8 or 16 bytes"))
        }
        guard let spanID = SpanID(bytes: idBytes), !spanID.isZero else { return .failure(Reason(message: "id must be 8 bytes")) }
        var parent = SpanID(0)
        if !parentBytes.isEmpty {
            guard let parsed = SpanID(bytes: parentBytes) else { return .failure(Reason(message: "parent_id must be 8 bytes")) }
            parent = parsed
        }
        guard timestamp > 0 else { return .failure(Reason(message: "span without a timestamp")) }
        tags.sort { $0.0 < $1.0 }
        return .success(record(
            traceID: traceID, spanID: spanID, parent: parent, name: name, kind: kind, timestampMicros: timestamp, durationMicros: duration,
            local: local, remote: remote, tags: tags, annotations: annotations))
    }
}
