package import OspreyModel

/// What an OTLP trace request decoded to: the valid spans and what was rejected (the
/// response's `partial_success`: `rejected_spans`, `error_message`).
package struct OTLPTraceBatch: Sendable {
    /// Valid spans.
    package var spans: [SpanRecord] = []
    /// Spans rejected one by one.
    package var rejectedSpans = 0
    /// Why, first reasons first.
    package var reasons: [String] = []

    /// The `partial_success.error_message`: empty when nothing was rejected.
    package var errorMessage: String {
        guard rejectedSpans > 0 else { return "" }
        return "\(rejectedSpans) spans rejected: " + reasons.joined(separator: "; ")
    }

    mutating func reject(_ reason: String) {
        rejectedSpans += 1
        if reasons.count < 8 && !reasons.contains(reason) { reasons.append(reason) }
    }
}

/// Limits on spans.
package struct OTLPTraceLimits: Hashable, Sendable {
    /// Most attributes per span, event, link, resource or scope.
    package var attributeCountLimit = 1024
    /// Longest attribute key or string value in bytes.
    package var attributeValueLengthLimit = 64 * 1024
    /// Most events and links per span.
    package var eventCountLimit = 1024
    /// Most spans per request.
    package var spanLimit = 1_000_000

    /// Defaults.
    package init() {}
}

/// Decodes `ExportTraceServiceRequest` protobuf bytes (field numbers from opentelemetry-proto
/// v1.9.0 `trace.proto`) into ``SpanRecord``s. Malformed protobuf throws; spans with invalid IDs,
/// an end before the start or over the limits are rejected one by one.
package enum OTLPTraceDecoder {
    package static func decode(_ bytes: UnsafeRawBufferPointer, limits: OTLPTraceLimits = OTLPTraceLimits()) throws(IngestError) -> OTLPTraceBatch {
        var batch = OTLPTraceBatch()
        var reader = ProtoReader(bytes)
        while !reader.isAtEnd {
            let (field, wire) = try reader.readTag()
            guard field == 1 else {
                try reader.skip(wire)
                continue
            }
            try reader.expect(wire, .lengthDelimited, field: field)
            try resourceSpans(try reader.readMessage(), limits, &batch)
        }
        return batch
    }

    package static func decode(_ bytes: [UInt8], limits: OTLPTraceLimits = OTLPTraceLimits()) throws(IngestError) -> OTLPTraceBatch {
        let result = bytes.withUnsafeBytes { buffer in
            Result { () throws(IngestError) -> OTLPTraceBatch in try decode(buffer, limits: limits) }
        }
        return try result.get()
    }

    private static func resourceSpans(_ message: ProtoReader, _ limits: OTLPTraceLimits, _ batch: inout OTLPTraceBatch) throws(IngestError) {
        var scan = message
        var resource = Resource()
        var scopes: [ProtoReader] = []
        while !scan.isAtEnd {
            let (field, wire) = try scan.readTag()
            switch field {
            case 1:
                try scan.expect(wire, .lengthDelimited, field: field)
                var reader = try scan.readMessage()
                while !reader.isAtEnd {
                    let (resourceField, resourceWire) = try reader.readTag()
                    switch resourceField {
                    case 1: resource.attributes.append(try attribute(&reader, resourceWire))
                    case 2: resource.droppedAttributesCount = UInt32(truncatingIfNeeded: try reader.readVarint())
                    default: try reader.skip(resourceWire)
                    }
                }
            case 2:
                try scan.expect(wire, .lengthDelimited, field: field)
                scopes.append(try scan.readMessage())
            default:
                try scan.skip(wire)
            }
        }
        for scope in scopes { try scopeSpans(scope, resource, limits, &batch) }
    }

    private static func scopeSpans(_ message: ProtoReader, _ resource: Resource, _ limits: OTLPTraceLimits, _ batch: inout OTLPTraceBatch) throws(IngestError) {
        var scan = message
        var scope = InstrumentationScope()
        var spans: [ProtoReader] = []
        while !scan.isAtEnd {
            let (field, wire) = try scan.readTag()
            switch field {
            case 1:
                try scan.expect(wire, .lengthDelimited, field: field)
                var reader = try scan.readMessage()
                while !reader.isAtEnd {
                    let (scopeField, scopeWire) = try reader.readTag()
                    switch scopeField {
                    case 1: scope.name = try string(&reader, scopeWire, scopeField)
                    case 2: scope.version = try string(&reader, scopeWire, scopeField)
                    case 3: scope.attributes.append(try attribute(&reader, scopeWire))
                    case 4: scope.droppedAttributesCount = UInt32(truncatingIfNeeded: try reader.readVarint())
                    default: try reader.skip(scopeWire)
                    }
                }
            case 2:
                try scan.expect(wire, .lengthDelimited, field: field)
                spans.append(try scan.readMessage())
            default:
                try scan.skip(wire)
            }
        }
        for span in spans {
            guard batch.spans.count + batch.rejectedSpans < limits.spanLimit else {
                throw IngestError(code: .tooLarge, message: "more than \(limits.spanLimit) spans in one request")
            }
            var reader = span
            switch try self.span(&reader, resource, scope, limits) {
            case .success(let record): batch.spans.append(record)
            case .failure(let reason): batch.reject(reason.message)
            }
        }
    }

    struct Rejection: Error {
        var message: String
    }

    private static func span(_ reader: inout ProtoReader, _ resource: Resource, _ scope: InstrumentationScope, _ limits: OTLPTraceLimits) throws(IngestError) -> Result<SpanRecord, Rejection> {
        var traceIDBytes: [UInt8] = []
        var spanIDBytes: [UInt8] = []
        var parentBytes: [UInt8] = []
        var record = SpanRecord(traceID: TraceID(high: 0, low: 0), spanID: SpanID(0), name: "", startTimeUnixNano: 0, endTimeUnixNano: 0, resource: resource, scope: scope)
        while !reader.isAtEnd {
            let (field, wire) = try reader.readTag()
            switch field {
            case 1: traceIDBytes = try bytes(&reader, wire, field)
            case 2: spanIDBytes = try bytes(&reader, wire, field)
            case 3: record.traceState = try string(&reader, wire, field)
            case 4: parentBytes = try bytes(&reader, wire, field)
            case 16:
                try reader.expect(wire, .fixed32, field: field)
                record.flags = try reader.readFixed32()
            case 5: record.name = try string(&reader, wire, field)
            case 6:
                try reader.expect(wire, .varint, field: field)
                record.kind = SpanKind(rawValue: UInt8(truncatingIfNeeded: try reader.readVarint())) ?? .unspecified
            case 7:
                try reader.expect(wire, .fixed64, field: field)
                record.startTimeUnixNano = try reader.readFixed64()
            case 8:
                try reader.expect(wire, .fixed64, field: field)
                record.endTimeUnixNano = try reader.readFixed64()
            case 9: record.attributes.append(try attribute(&reader, wire))
            case 10:
                try reader.expect(wire, .varint, field: field)
                record.droppedAttributesCount = UInt32(truncatingIfNeeded: try reader.readVarint())
            case 11:
                try reader.expect(wire, .lengthDelimited, field: field)
                var message = try reader.readMessage()
                record.events.append(try event(&message))
            case 12:
                try reader.expect(wire, .varint, field: field)
                record.droppedEventsCount = UInt32(truncatingIfNeeded: try reader.readVarint())
            case 13:
                try reader.expect(wire, .lengthDelimited, field: field)
                var message = try reader.readMessage()
                switch try link(&message) {
                case .success(let link): record.links.append(link)
                case .failure(let rejection): return .failure(rejection)
                }
            case 14:
                try reader.expect(wire, .varint, field: field)
                record.droppedLinksCount = UInt32(truncatingIfNeeded: try reader.readVarint())
            case 15:
                try reader.expect(wire, .lengthDelimited, field: field)
                var message = try reader.readMessage()
                while !message.isAtEnd {
                    let (statusField, statusWire) = try message.readTag()
                    switch statusField {
                    case 2: record.status.message = try string(&message, statusWire, statusField)
                    case 3:
                        try message.expect(statusWire, .varint, field: statusField)
                        record.status.code = SpanStatus.Code(rawValue: UInt8(truncatingIfNeeded: try message.readVarint())) ?? .unset
                    default: try message.skip(statusWire)
                    }
                }
            default:
                try reader.skip(wire)
            }
        }
        guard let traceID = TraceID(bytes: traceIDBytes), traceIDBytes.count == 16, !traceID.isZero else {
            return .failure(Rejection(message: "trace_id must be 16 bytes and not all zeros"))
        }
        guard let spanID = SpanID(bytes: spanIDBytes), !spanID.isZero else {
            return .failure(Rejection(message: "span_id must be 8 bytes and not all zeros"))
        }
        record.traceID = traceID
        record.spanID = spanID
        if !parentBytes.isEmpty {
            guard let parent = SpanID(bytes: parentBytes) else {
                return .failure(Rejection(message: "parent_span_id must be empty or 8 bytes"))
            }
            record.parentSpanID = parent
        }
        if record.startTimeUnixNano == 0 {
            return .failure(Rejection(message: "span without start_time_unix_nano"))
        }
        if record.endTimeUnixNano < record.startTimeUnixNano {
            return .failure(Rejection(message: "span ends before it starts"))
        }
        if record.attributes.count > limits.attributeCountLimit || record.events.count > limits.eventCountLimit || record.links.count > limits.eventCountLimit {
            return .failure(Rejection(message: "span over the attribute, event or link limits"))
        }
        if let long = record.attributes.first(where: { $0.key.utf8.count > limits.attributeValueLengthLimit || Self.length($0.value) > limits.attributeValueLengthLimit }) {
            return .failure(Rejection(message: "attribute \"\(long.key.prefix(64))\" longer than \(limits.attributeValueLengthLimit) bytes"))
        }
        return .success(record)
    }

    private static func length(_ value: AttributeValue) -> Int {
        switch value {
        case .string(let text): return text.utf8.count
        case .bytes(let bytes): return bytes.count
        default: return 0
        }
    }

    private static func event(_ reader: inout ProtoReader) throws(IngestError) -> SpanEvent {
        var event = SpanEvent(timeUnixNano: 0, name: "")
        while !reader.isAtEnd {
            let (field, wire) = try reader.readTag()
            switch field {
            case 1:
                try reader.expect(wire, .fixed64, field: field)
                event.timeUnixNano = try reader.readFixed64()
            case 2: event.name = try string(&reader, wire, field)
            case 3: event.attributes.append(try attribute(&reader, wire))
            case 4:
                try reader.expect(wire, .varint, field: field)
                event.droppedAttributesCount = UInt32(truncatingIfNeeded: try reader.readVarint())
            default: try reader.skip(wire)
            }
        }
        return event
    }

    private static func link(_ reader: inout ProtoReader) throws(IngestError) -> Result<SpanLink, Rejection> {
        var traceIDBytes: [UInt8] = []
        var spanIDBytes: [UInt8] = []
        var link = SpanLink(traceID: TraceID(high: 0, low: 0), spanID: SpanID(0))
        while !reader.isAtEnd {
            let (field, wire) = try reader.readTag()
            switch field {
            case 1: traceIDBytes = try bytes(&reader, wire, field)
            case 2: spanIDBytes = try bytes(&reader, wire, field)
            case 3: link.traceState = try string(&reader, wire, field)
            case 4: link.attributes.append(try attribute(&reader, wire))
            case 5:
                try reader.expect(wire, .varint, field: field)
                link.droppedAttributesCount = UInt32(truncatingIfNeeded: try reader.readVarint())
            case 6:
                try reader.expect(wire, .fixed32, field: field)
                link.flags = try reader.readFixed32()
            default: try reader.skip(wire)
            }
        }
        guard traceIDBytes.count == 16, let traceID = TraceID(bytes: traceIDBytes), let spanID = SpanID(bytes: spanIDBytes) else {
            return .failure(Rejection(message: "a link's trace_id must be 16 bytes and span_id 8 bytes"))
        }
        link.traceID = traceID
        link.spanID = spanID
        return .success(link)
    }

    /// How deep arrays and maps may nest in attribute values.
    static let maxValueDepth = 32

    /// A `KeyValue` field.
    static func attribute(_ reader: inout ProtoReader, _ wire: WireType, depth: Int = 0) throws(IngestError) -> Attribute {
        try reader.expect(wire, .lengthDelimited, field: 0)
        var message = try reader.readMessage()
        var key = ""
        var value = AttributeValue.empty
        while !message.isAtEnd {
            let (field, fieldWire) = try message.readTag()
            switch field {
            case 1: key = try string(&message, fieldWire, field)
            case 2:
                try message.expect(fieldWire, .lengthDelimited, field: field)
                var any = try message.readMessage()
                value = try anyValue(&any, depth: depth)
            default: try message.skip(fieldWire)
            }
        }
        return Attribute(key, value)
    }

    /// An `AnyValue` message.
    static func anyValue(_ reader: inout ProtoReader, depth: Int = 0) throws(IngestError) -> AttributeValue {
        guard depth < maxValueDepth else {
            throw IngestError(code: .badRequest, message: "attribute values nested more than \(maxValueDepth) deep")
        }
        var value = AttributeValue.empty
        while !reader.isAtEnd {
            let (field, wire) = try reader.readTag()
            switch field {
            case 1: value = .string(try string(&reader, wire, field))
            case 2:
                try reader.expect(wire, .varint, field: field)
                value = .bool(try reader.readVarint() != 0)
            case 3:
                try reader.expect(wire, .varint, field: field)
                value = .int(Int64(bitPattern: try reader.readVarint()))
            case 4:
                try reader.expect(wire, .fixed64, field: field)
                value = .double(try reader.readDouble())
            case 5:
                try reader.expect(wire, .lengthDelimited, field: field)
                var array = try reader.readMessage()
                var values: [AttributeValue] = []
                while !array.isAtEnd {
                    let (elementField, elementWire) = try array.readTag()
                    guard elementField == 1 else {
                        try array.skip(elementWire)
                        continue
                    }
                    try array.expect(elementWire, .lengthDelimited, field: elementField)
                    var element = try array.readMessage()
                    values.append(try anyValue(&element, depth: depth + 1))
                }
                value = .array(values)
            case 6:
                try reader.expect(wire, .lengthDelimited, field: field)
                var list = try reader.readMessage()
                var entries: [Attribute] = []
                while !list.isAtEnd {
                    let (entryField, entryWire) = try list.readTag()
                    guard entryField == 1 else {
                        try list.skip(entryWire)
                        continue
                    }
                    entries.append(try attribute(&list, entryWire, depth: depth + 1))
                }
                value = .map(entries)
            case 7: value = .bytes(try bytes(&reader, wire, field))
            default: try reader.skip(wire)
            }
        }
        return value
    }

    private static func string(_ reader: inout ProtoReader, _ wire: WireType, _ field: Int) throws(IngestError) -> String {
        try reader.expect(wire, .lengthDelimited, field: field)
        return try reader.readString()
    }

    private static func bytes(_ reader: inout ProtoReader, _ wire: WireType, _ field: Int) throws(IngestError) -> [UInt8] {
        try reader.expect(wire, .lengthDelimited, field: field)
        return Array(reader.bytes(try reader.readLengthDelimitedRange()))
    }
}
