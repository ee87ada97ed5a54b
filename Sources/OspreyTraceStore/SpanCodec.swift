package import OspreyEncoding
package import OspreyModel

/// The span encoding of docs/formats/traces.md in its WAL form: every field written out,
/// resource and scope in full.
package enum SpanCodec {
    /// Appends `span` to `out`.
    package static func append(_ span: SpanRecord, to out: inout [UInt8]) {
        appendTraceID(span.traceID, to: &out)
        appendUInt64BE(span.spanID.raw, to: &out)
        appendUInt64BE(span.parentSpanID.raw, to: &out)
        Varint.appendUVarint(UInt64(span.flags), to: &out)
        appendString(span.traceState, to: &out)
        appendString(span.name, to: &out)
        out.append(span.kind.rawValue)
        Varint.appendUVarint(span.startTimeUnixNano, to: &out)
        Varint.appendUVarint(span.durationNanos, to: &out)
        appendAttributes(span.attributes, to: &out)
        Varint.appendUVarint(UInt64(span.droppedAttributesCount), to: &out)
        Varint.appendUVarint(UInt64(span.events.count), to: &out)
        for event in span.events {
            Varint.appendVarint(Int64(bitPattern: event.timeUnixNano &- span.startTimeUnixNano), to: &out)
            appendString(event.name, to: &out)
            appendAttributes(event.attributes, to: &out)
            Varint.appendUVarint(UInt64(event.droppedAttributesCount), to: &out)
        }
        Varint.appendUVarint(UInt64(span.droppedEventsCount), to: &out)
        Varint.appendUVarint(UInt64(span.links.count), to: &out)
        for link in span.links {
            appendTraceID(link.traceID, to: &out)
            appendUInt64BE(link.spanID.raw, to: &out)
            appendString(link.traceState, to: &out)
            appendAttributes(link.attributes, to: &out)
            Varint.appendUVarint(UInt64(link.droppedAttributesCount), to: &out)
            Varint.appendUVarint(UInt64(link.flags), to: &out)
        }
        Varint.appendUVarint(UInt64(span.droppedLinksCount), to: &out)
        out.append(span.status.code.rawValue)
        appendString(span.status.message, to: &out)
        appendAttributes(span.resource.attributes, to: &out)
        Varint.appendUVarint(UInt64(span.resource.droppedAttributesCount), to: &out)
        appendString(span.scope.name, to: &out)
        appendString(span.scope.version, to: &out)
        appendAttributes(span.scope.attributes, to: &out)
        Varint.appendUVarint(UInt64(span.scope.droppedAttributesCount), to: &out)
    }

    /// Reads one span written by ``append(_:to:)``.
    package static func read(_ reader: inout ByteReader) throws(EncodingError) -> SpanRecord {
        let traceID = try readTraceID(&reader)
        let spanID = SpanID(try reader.readUInt64BE())
        let parent = SpanID(try reader.readUInt64BE())
        let flags = UInt32(truncatingIfNeeded: try reader.readUVarint())
        let traceState = try readString(&reader)
        let name = try readString(&reader)
        let kind = SpanKind(rawValue: try reader.readUInt8()) ?? .unspecified
        let start = try reader.readUVarint()
        let duration = try reader.readUVarint()
        var span = SpanRecord(
            traceID: traceID, spanID: spanID, parentSpanID: parent, traceState: traceState, flags: flags, name: name, kind: kind,
            startTimeUnixNano: start, endTimeUnixNano: start &+ duration)
        span.attributes = try readAttributes(&reader)
        span.droppedAttributesCount = try readUInt32(&reader)
        let eventCount = try readCount(&reader)
        span.events.reserveCapacity(eventCount)
        for _ in 0..<eventCount {
            let offset = try reader.readVarint()
            let name = try readString(&reader)
            let attributes = try readAttributes(&reader)
            let dropped = try readUInt32(&reader)
            span.events.append(SpanEvent(timeUnixNano: start &+ UInt64(bitPattern: offset), name: name, attributes: attributes, droppedAttributesCount: dropped))
        }
        span.droppedEventsCount = try readUInt32(&reader)
        let linkCount = try readCount(&reader)
        for _ in 0..<linkCount {
            let linkTrace = try readTraceID(&reader)
            let linkSpan = SpanID(try reader.readUInt64BE())
            let state = try readString(&reader)
            let attributes = try readAttributes(&reader)
            let dropped = try readUInt32(&reader)
            let linkFlags = try readUInt32(&reader)
            span.links.append(SpanLink(traceID: linkTrace, spanID: linkSpan, traceState: state, attributes: attributes, droppedAttributesCount: dropped, flags: linkFlags))
        }
        span.droppedLinksCount = try readUInt32(&reader)
        span.status = SpanStatus(code: SpanStatus.Code(rawValue: try reader.readUInt8()) ?? .unset, message: try readString(&reader))
        span.resource = Resource(attributes: try readAttributes(&reader), droppedAttributesCount: try readUInt32(&reader))
        span.scope = InstrumentationScope(
            name: try readString(&reader), version: try readString(&reader), attributes: try readAttributes(&reader),
            droppedAttributesCount: try readUInt32(&reader))
        return span
    }

    // MARK: - Pieces

    static func appendTraceID(_ id: TraceID, to out: inout [UInt8]) {
        appendUInt64BE(id.high, to: &out)
        appendUInt64BE(id.low, to: &out)
    }

    static func appendUInt64BE(_ value: UInt64, to out: inout [UInt8]) {
        withUnsafeBytes(of: value.bigEndian) { out.append(contentsOf: $0) }
    }

    static func appendString(_ text: String, to out: inout [UInt8]) {
        Varint.appendUVarint(UInt64(text.utf8.count), to: &out)
        out.append(contentsOf: text.utf8)
    }

    static func appendAttributes(_ attributes: [Attribute], to out: inout [UInt8]) {
        Varint.appendUVarint(UInt64(attributes.count), to: &out)
        for attribute in attributes {
            appendString(attribute.key, to: &out)
            appendValue(attribute.value, to: &out)
        }
    }

    static func appendValue(_ value: AttributeValue, to out: inout [UInt8]) {
        switch value {
        case .empty:
            out.append(0)
        case .string(let text):
            out.append(1)
            appendString(text, to: &out)
        case .bool(let flag):
            out.append(2)
            out.append(flag ? 1 : 0)
        case .int(let number):
            out.append(3)
            Varint.appendVarint(number, to: &out)
        case .double(let number):
            out.append(4)
            withUnsafeBytes(of: number.bitPattern.littleEndian) { out.append(contentsOf: $0) }
        case .bytes(let bytes):
            out.append(5)
            Varint.appendUVarint(UInt64(bytes.count), to: &out)
            out.append(contentsOf: bytes)
        case .array(let values):
            out.append(6)
            Varint.appendUVarint(UInt64(values.count), to: &out)
            for element in values { appendValue(element, to: &out) }
        case .map(let entries):
            out.append(7)
            appendAttributes(entries, to: &out)
        }
    }

    static func readTraceID(_ reader: inout ByteReader) throws(EncodingError) -> TraceID {
        TraceID(high: try reader.readUInt64BE(), low: try reader.readUInt64BE())
    }

    static func readUInt32(_ reader: inout ByteReader) throws(EncodingError) -> UInt32 {
        UInt32(truncatingIfNeeded: try reader.readUVarint())
    }

    /// A count of items that each take at least one byte: never more than the bytes left.
    static func readCount(_ reader: inout ByteReader) throws(EncodingError) -> Int {
        let offset = reader.offset
        let count = try reader.readUVarint()
        guard count <= UInt64(reader.remaining) else {
            throw EncodingError(code: .corrupt, message: "count \(count) larger than the bytes left", offset: offset)
        }
        return Int(count)
    }

    static func readString(_ reader: inout ByteReader) throws(EncodingError) -> String {
        let length = try readCount(&reader)
        return String(decoding: try reader.readBytes(length), as: UTF8.self)
    }

    static func readAttributes(_ reader: inout ByteReader, depth: Int = 0) throws(EncodingError) -> [Attribute] {
        let count = try readCount(&reader)
        var attributes: [Attribute] = []
        attributes.reserveCapacity(count)
        for _ in 0..<count {
            let key = try readString(&reader)
            attributes.append(Attribute(key, try readValue(&reader, depth: depth)))
        }
        return attributes
    }

    static func readValue(_ reader: inout ByteReader, depth: Int) throws(EncodingError) -> AttributeValue {
        let offset = reader.offset
        guard depth < 64 else { throw EncodingError(code: .corrupt, message: "attribute values nested too deep", offset: offset) }
        switch try reader.readUInt8() {
        case 0: return .empty
        case 1: return .string(try readString(&reader))
        case 2: return .bool(try reader.readUInt8() != 0)
        case 3: return .int(try reader.readVarint())
        case 4: return .double(Double(bitPattern: try reader.readUInt64LE()))
        case 5:
            let length = try readCount(&reader)
            return .bytes(Array(try reader.readBytes(length)))
        case 6:
            let count = try readCount(&reader)
            var values: [AttributeValue] = []
            for _ in 0..<count { values.append(try readValue(&reader, depth: depth + 1)) }
            return .array(values)
        case 7: return .map(try readAttributes(&reader, depth: depth + 1))
        case let other: throw EncodingError(code: .corrupt, message: "unknown attribute value type \(other)", offset: offset)
        }
    }
}
