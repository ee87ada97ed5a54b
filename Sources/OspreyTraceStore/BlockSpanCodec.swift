package import OspreyEncoding
package import OspreyModel

/// Strings of a block being written, each once, by ordinal.
package struct BlockStrings {
    package private(set) var strings: [String] = []
    private var ordinals: [String: UInt32] = [:]

    package init() {}

    package mutating func ordinal(_ text: String) -> UInt32 {
        if let known = ordinals[text] { return known }
        let next = UInt32(strings.count)
        strings.append(text)
        ordinals[text] = next
        return next
    }
}

/// Values of a block being written, each once, by ordinal (resources, scopes).
package struct BlockInterner<Value: Hashable> {
    package private(set) var values: [Value] = []
    private var ordinals: [Value: UInt32] = [:]

    package init() {}

    package mutating func ordinal(_ value: Value) -> UInt32 {
        if let known = ordinals[value] { return known }
        let next = UInt32(values.count)
        values.append(value)
        ordinals[value] = next
        return next
    }
}

/// What a block's records refer to: strings, resources and scopes by ordinal.
package struct BlockTables: Sendable {
    package var strings: [String]
    package var resources: [Resource]
    package var scopes: [InstrumentationScope]

    package init(strings: [String], resources: [Resource], scopes: [InstrumentationScope]) {
        self.strings = strings
        self.resources = resources
        self.scopes = scopes
    }
}

/// The trace records of a block's `spans` file (docs/formats/traces.md).
package enum BlockSpanCodec {
    /// Appends the trace record of `spans` (all of one trace) to `out`.
    package static func appendRecord(
        _ spans: [SpanRecord], firstStart: UInt64, strings: inout BlockStrings,
        resources: inout BlockInterner<Resource>, scopes: inout BlockInterner<InstrumentationScope>, to out: inout [UInt8]
    ) {
        var index: [SpanID: Int] = [:]
        for (position, span) in spans.enumerated() where index[span.spanID] == nil { index[span.spanID] = position }
        Varint.appendUVarint(UInt64(spans.count), to: &out)
        for span in spans {
            SpanCodec.appendUInt64BE(span.spanID.raw, to: &out)
            if span.parentSpanID.isZero {
                out.append(0)
            } else if let position = index[span.parentSpanID] {
                Varint.appendUVarint(UInt64(position + 1), to: &out)
            } else {
                Varint.appendUVarint(UInt64(spans.count + 1), to: &out)
                SpanCodec.appendUInt64BE(span.parentSpanID.raw, to: &out)
            }
            Varint.appendUVarint(UInt64(span.flags), to: &out)
            Varint.appendUVarint(UInt64(strings.ordinal(span.traceState)), to: &out)
            Varint.appendUVarint(UInt64(strings.ordinal(span.name)), to: &out)
            out.append(span.kind.rawValue)
            Varint.appendVarint(Int64(bitPattern: span.startTimeUnixNano &- firstStart), to: &out)
            Varint.appendUVarint(span.durationNanos, to: &out)
            appendAttributes(span.attributes, &strings, to: &out)
            Varint.appendUVarint(UInt64(span.droppedAttributesCount), to: &out)
            Varint.appendUVarint(UInt64(span.events.count), to: &out)
            for event in span.events {
                Varint.appendVarint(Int64(bitPattern: event.timeUnixNano &- span.startTimeUnixNano), to: &out)
                Varint.appendUVarint(UInt64(strings.ordinal(event.name)), to: &out)
                appendAttributes(event.attributes, &strings, to: &out)
                Varint.appendUVarint(UInt64(event.droppedAttributesCount), to: &out)
            }
            Varint.appendUVarint(UInt64(span.droppedEventsCount), to: &out)
            Varint.appendUVarint(UInt64(span.links.count), to: &out)
            for link in span.links {
                SpanCodec.appendTraceID(link.traceID, to: &out)
                SpanCodec.appendUInt64BE(link.spanID.raw, to: &out)
                Varint.appendUVarint(UInt64(strings.ordinal(link.traceState)), to: &out)
                appendAttributes(link.attributes, &strings, to: &out)
                Varint.appendUVarint(UInt64(link.droppedAttributesCount), to: &out)
                Varint.appendUVarint(UInt64(link.flags), to: &out)
            }
            Varint.appendUVarint(UInt64(span.droppedLinksCount), to: &out)
            out.append(span.status.code.rawValue)
            Varint.appendUVarint(UInt64(strings.ordinal(span.status.message)), to: &out)
            Varint.appendUVarint(UInt64(resources.ordinal(span.resource)), to: &out)
            Varint.appendUVarint(UInt64(scopes.ordinal(span.scope)), to: &out)
        }
    }

    /// Reads a trace record.
    package static func readRecord(_ reader: inout ByteReader, traceID: TraceID, firstStart: UInt64, tables: BlockTables) throws(EncodingError) -> [SpanRecord] {
        let count = try SpanCodec.readCount(&reader)
        var spans: [SpanRecord] = []
        spans.reserveCapacity(count)
        var parents: [(position: Int, index: Int)] = []
        for position in 0..<count {
            let spanID = SpanID(try reader.readUInt64BE())
            var parent = SpanID(0)
            let parentCode = try reader.readUVarint()
            if parentCode == UInt64(count + 1) {
                parent = SpanID(try reader.readUInt64BE())
            } else if parentCode > 0 {
                guard parentCode <= UInt64(count) else { throw corrupt(reader, "parent index \(parentCode) out of range") }
                parents.append((position, Int(parentCode) - 1))
            }
            let flags = UInt32(truncatingIfNeeded: try reader.readUVarint())
            let traceState = try string(&reader, tables)
            let name = try string(&reader, tables)
            let kind = SpanKind(rawValue: try reader.readUInt8()) ?? .unspecified
            let start = firstStart &+ UInt64(bitPattern: try reader.readVarint())
            let duration = try reader.readUVarint()
            var span = SpanRecord(
                traceID: traceID, spanID: spanID, parentSpanID: parent, traceState: traceState, flags: flags, name: name, kind: kind,
                startTimeUnixNano: start, endTimeUnixNano: start &+ duration)
            span.attributes = try readAttributes(&reader, tables)
            span.droppedAttributesCount = try SpanCodec.readUInt32(&reader)
            let events = try SpanCodec.readCount(&reader)
            for _ in 0..<events {
                let time = start &+ UInt64(bitPattern: try reader.readVarint())
                let eventName = try string(&reader, tables)
                let attributes = try readAttributes(&reader, tables)
                span.events.append(SpanEvent(timeUnixNano: time, name: eventName, attributes: attributes, droppedAttributesCount: try SpanCodec.readUInt32(&reader)))
            }
            span.droppedEventsCount = try SpanCodec.readUInt32(&reader)
            let links = try SpanCodec.readCount(&reader)
            for _ in 0..<links {
                let linkTrace = try SpanCodec.readTraceID(&reader)
                let linkSpan = SpanID(try reader.readUInt64BE())
                let state = try string(&reader, tables)
                let attributes = try readAttributes(&reader, tables)
                let dropped = try SpanCodec.readUInt32(&reader)
                span.links.append(SpanLink(traceID: linkTrace, spanID: linkSpan, traceState: state, attributes: attributes, droppedAttributesCount: dropped, flags: try SpanCodec.readUInt32(&reader)))
            }
            span.droppedLinksCount = try SpanCodec.readUInt32(&reader)
            let code = SpanStatus.Code(rawValue: try reader.readUInt8()) ?? .unset
            span.status = SpanStatus(code: code, message: try string(&reader, tables))
            let resource = try reader.readUVarint()
            let scope = try reader.readUVarint()
            guard resource < UInt64(tables.resources.count), scope < UInt64(tables.scopes.count) else {
                throw corrupt(reader, "resource or scope ordinal out of range")
            }
            span.resource = tables.resources[Int(resource)]
            span.scope = tables.scopes[Int(scope)]
            spans.append(span)
        }
        for (position, index) in parents { spans[position].parentSpanID = spans[index].spanID }
        return spans
    }

    // MARK: - Pieces

    package static func appendAttributes(_ attributes: [Attribute], _ strings: inout BlockStrings, to out: inout [UInt8]) {
        Varint.appendUVarint(UInt64(attributes.count), to: &out)
        for attribute in attributes {
            Varint.appendUVarint(UInt64(strings.ordinal(attribute.key)), to: &out)
            appendValue(attribute.value, &strings, to: &out)
        }
    }

    static func appendValue(_ value: AttributeValue, _ strings: inout BlockStrings, to out: inout [UInt8]) {
        switch value {
        case .string(let text):
            out.append(1)
            Varint.appendUVarint(UInt64(strings.ordinal(text)), to: &out)
        case .array(let values):
            out.append(6)
            Varint.appendUVarint(UInt64(values.count), to: &out)
            for element in values { appendValue(element, &strings, to: &out) }
        case .map(let entries):
            out.append(7)
            appendAttributes(entries, &strings, to: &out)
        default:
            // Other types are written as in the WAL.
            SpanCodec.appendValue(value, to: &out)
        }
    }

    package static func readAttributes(_ reader: inout ByteReader, _ tables: BlockTables, depth: Int = 0) throws(EncodingError) -> [Attribute] {
        let count = try SpanCodec.readCount(&reader)
        var attributes: [Attribute] = []
        attributes.reserveCapacity(count)
        for _ in 0..<count {
            let key = try string(&reader, tables)
            attributes.append(Attribute(key, try readValue(&reader, tables, depth: depth)))
        }
        return attributes
    }

    static func readValue(_ reader: inout ByteReader, _ tables: BlockTables, depth: Int) throws(EncodingError) -> AttributeValue {
        guard depth < 64 else { throw corrupt(reader, "attribute values nested too deep") }
        let type = try reader.readUInt8()
        switch type {
        case 1: return .string(try string(&reader, tables))
        case 6:
            let count = try SpanCodec.readCount(&reader)
            var values: [AttributeValue] = []
            for _ in 0..<count { values.append(try readValue(&reader, tables, depth: depth + 1)) }
            return .array(values)
        case 7: return .map(try readAttributes(&reader, tables, depth: depth + 1))
        case 0: return .empty
        case 2: return .bool(try reader.readUInt8() != 0)
        case 3: return .int(try reader.readVarint())
        case 4: return .double(Double(bitPattern: try reader.readUInt64LE()))
        case 5:
            let length = try SpanCodec.readCount(&reader)
            return .bytes(Array(try reader.readBytes(length)))
        default: throw corrupt(reader, "unknown attribute value type \(type)")
        }
    }

    static func string(_ reader: inout ByteReader, _ tables: BlockTables) throws(EncodingError) -> String {
        let ordinal = try reader.readUVarint()
        guard ordinal < UInt64(tables.strings.count) else { throw corrupt(reader, "string ordinal \(ordinal) out of range") }
        return tables.strings[Int(ordinal)]
    }

    static func corrupt(_ reader: ByteReader, _ message: String) -> EncodingError {
        EncodingError(code: .corrupt, message: message, offset: reader.offset)
    }
}
