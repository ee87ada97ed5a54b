import Foundation
import OspreyModel

/// Reads OTLP `KeyValue` attributes (`opentelemetry.proto.common.v1`) and renders their values
/// as label values the way the OpenTelemetry Collector's `pcommon.Value.AsString` does, which
/// Prometheus' translator uses: strings as they are, booleans and integers in decimal, doubles
/// in ECMAScript number form, bytes in base64, arrays and maps as JSON.
enum OTLPAttributes {
    /// One attribute: key and rendered value.
    typealias Attribute = (key: String, value: String)

    /// Decodes one `KeyValue` message (`key` = 1, `value` = 2).
    static func keyValue(_ reader: inout ProtoReader) throws(IngestError) -> Attribute {
        var key = ""
        var value = ""
        while !reader.isAtEnd {
            let (field, wire) = try reader.readTag()
            switch field {
            case 1:
                try reader.expect(wire, .lengthDelimited, field: field)
                key = try reader.readString()
            case 2:
                try reader.expect(wire, .lengthDelimited, field: field)
                var message = try reader.readMessage()
                value = try anyValue(&message)
            default:
                try reader.skip(wire)
            }
        }
        return (key, value)
    }

    /// Decodes the `KeyValue` entries among the fields of a message with attributes in field
    /// `field`, appending them to `into`.
    static func collect(_ message: ProtoReader, field attributesField: Int, into attributes: inout [Attribute]) throws(IngestError) {
        var reader = message
        while !reader.isAtEnd {
            let (field, wire) = try reader.readTag()
            if field == attributesField {
                try reader.expect(wire, .lengthDelimited, field: field)
                var entry = try reader.readMessage()
                attributes.append(try keyValue(&entry))
            } else {
                try reader.skip(wire)
            }
        }
    }

    /// Renders an `AnyValue` message.
    static func anyValue(_ reader: inout ProtoReader) throws(IngestError) -> String {
        var bytes: [UInt8] = []
        var isString = false
        var text = ""
        while !reader.isAtEnd {
            let (field, wire) = try reader.readTag()
            switch field {
            case 1:
                try reader.expect(wire, .lengthDelimited, field: field)
                text = try reader.readString()
                isString = true
                bytes.removeAll()
            case 2...7:
                bytes.removeAll()
                isString = false
                do {
                    try renderJSONish(field: field, wire: wire, &reader, into: &bytes, topLevel: true, depth: 0)
                } catch where error == unsupportedJSONValue {
                    // As pdata: an array or map holding NaN or an infinity does not marshal to
                    // JSON, and its text is empty.
                    bytes.removeAll()
                }
            default:
                try reader.skip(wire)
            }
        }
        return isString ? text : String(decoding: bytes, as: UTF8.self)
    }

    /// Thrown inside arrays and maps for values JSON cannot hold.
    private static let unsupportedJSONValue = IngestError(code: .unsupported, message: "json: unsupported value")

    /// Renders one `AnyValue` field: at top level strings are bare, inside JSON they are quoted.
    private static func renderJSONish(field: Int, wire: WireType, _ reader: inout ProtoReader, into out: inout [UInt8], topLevel: Bool, depth: Int) throws(IngestError) {
        guard depth < OTLPTraceDecoder.maxValueDepth else {
            throw IngestError(code: .badRequest, message: "attribute values nested more than \(OTLPTraceDecoder.maxValueDepth) deep")
        }
        switch field {
        case 1:
            try reader.expect(wire, .lengthDelimited, field: field)
            let string = try reader.readString()
            if topLevel { out.append(contentsOf: string.utf8) } else { appendJSONString(string, to: &out) }
        case 2:
            try reader.expect(wire, .varint, field: field)
            out.append(contentsOf: (try reader.readVarint() != 0 ? "true" : "false").utf8)
        case 3:
            try reader.expect(wire, .varint, field: field)
            out.append(contentsOf: String(Int64(bitPattern: try reader.readVarint())).utf8)
        case 4:
            try reader.expect(wire, .fixed64, field: field)
            let number = try reader.readDouble()
            if !number.isFinite {
                // pdata's AsString for a NaN or an infinity; inside JSON it fails.
                guard topLevel else { throw unsupportedJSONValue }
                out.append(contentsOf: ("json: unsupported value: " + GoFloatFormat.g(number)).utf8)
            } else {
                out.append(contentsOf: ecmaScriptNumber(number).utf8)
            }
        case 5:
            try reader.expect(wire, .lengthDelimited, field: field)
            var array = try reader.readMessage()
            out.append(UInt8(ascii: "["))
            var first = true
            while !array.isAtEnd {
                let (entryField, entryWire) = try array.readTag()
                guard entryField == 1 else {
                    try array.skip(entryWire)
                    continue
                }
                try array.expect(entryWire, .lengthDelimited, field: entryField)
                var element = try array.readMessage()
                if !first { out.append(UInt8(ascii: ",")) }
                first = false
                try renderNested(&element, into: &out, depth: depth + 1)
            }
            out.append(UInt8(ascii: "]"))
        case 6:
            try reader.expect(wire, .lengthDelimited, field: field)
            var list = try reader.readMessage()
            var entries: [(String, [UInt8])] = []
            var positions: [String: Int] = [:]
            while !list.isAtEnd {
                let (entryField, entryWire) = try list.readTag()
                guard entryField == 1 else {
                    try list.skip(entryWire)
                    continue
                }
                try list.expect(entryWire, .lengthDelimited, field: entryField)
                var entry = try list.readMessage()
                var key = ""
                var rendered: [UInt8] = Array("null".utf8)
                while !entry.isAtEnd {
                    let (kvField, kvWire) = try entry.readTag()
                    switch kvField {
                    case 1:
                        try entry.expect(kvWire, .lengthDelimited, field: kvField)
                        key = try entry.readString()
                    case 2:
                        try entry.expect(kvWire, .lengthDelimited, field: kvField)
                        var value = try entry.readMessage()
                        rendered.removeAll()
                        try renderNested(&value, into: &rendered, depth: depth + 1)
                    default: try entry.skip(kvWire)
                    }
                }
                if let index = positions[key] {
                    entries[index].1 = rendered
                } else {
                    positions[key] = entries.count
                    entries.append((key, rendered))
                }
            }
            // Go's encoding/json writes map keys sorted.
            entries.sort { $0.0.utf8.lexicographicallyPrecedes($1.0.utf8) }
            out.append(UInt8(ascii: "{"))
            for (index, entry) in entries.enumerated() {
                if index > 0 { out.append(UInt8(ascii: ",")) }
                appendJSONString(entry.0, to: &out)
                out.append(UInt8(ascii: ":"))
                out.append(contentsOf: entry.1)
            }
            out.append(UInt8(ascii: "}"))
        case 7:
            try reader.expect(wire, .lengthDelimited, field: field)
            let range = try reader.readLengthDelimitedRange()
            let encoded = Array(Data(reader.bytes(range)).base64EncodedString().utf8)
            if topLevel { out.append(contentsOf: encoded) } else {
                out.append(UInt8(ascii: "\""))
                out.append(contentsOf: encoded)
                out.append(UInt8(ascii: "\""))
            }
        default:
            try reader.skip(wire)
        }
    }

    /// An `AnyValue` inside an array or map, as JSON (`null` when empty).
    private static func renderNested(_ reader: inout ProtoReader, into out: inout [UInt8], depth: Int) throws(IngestError) {
        var rendered: [UInt8] = []
        var any = false
        while !reader.isAtEnd {
            let (field, wire) = try reader.readTag()
            guard (1...7).contains(field) else {
                try reader.skip(wire)
                continue
            }
            rendered.removeAll()
            try renderJSONish(field: field, wire: wire, &reader, into: &rendered, topLevel: false, depth: depth)
            any = true
        }
        out.append(contentsOf: any ? rendered : Array("null".utf8))
    }

    /// A JSON string as Go's encoding/json writes it (HTML-safe escapes included).
    static func appendJSONString(_ string: String, to out: inout [UInt8]) {
        let hex = Array("0123456789abcdef".utf8)
        out.append(UInt8(ascii: "\""))
        for scalar in string.unicodeScalars {
            switch scalar {
            case "\"": out.append(contentsOf: "\\\"".utf8)
            case "\\": out.append(contentsOf: "\\\\".utf8)
            case "\n": out.append(contentsOf: "\\n".utf8)
            case "\r": out.append(contentsOf: "\\r".utf8)
            case "\t": out.append(contentsOf: "\\t".utf8)
            case "<", ">", "&", "\u{2028}", "\u{2029}":
                let value = scalar.value
                out.append(contentsOf: "\\u".utf8)
                for shift in stride(from: 12, through: 0, by: -4) { out.append(hex[Int((value >> UInt32(shift)) & 0xF)]) }
            default:
                if scalar.value < 0x20 {
                    out.append(contentsOf: "\\u00".utf8)
                    out.append(hex[Int(scalar.value >> 4)])
                    out.append(hex[Int(scalar.value & 0xF)])
                } else {
                    out.append(contentsOf: String(scalar).utf8)
                }
            }
        }
        out.append(UInt8(ascii: "\""))
    }

    /// A double as ECMAScript's Number::toString (and Go's encoding/json): plain digits between
    /// 1e-6 and 1e21, exponent form outside (`1e-7`, `1e+21`).
    static func ecmaScriptNumber(_ value: Double) -> String {
        if value.isNaN { return "NaN" }
        if value.isInfinite { return value < 0 ? "-Inf" : "+Inf" }
        let magnitude = Swift.abs(value)
        if magnitude == 0 { return value.sign == .minus ? "-0" : "0" }
        if magnitude >= 1e-6 && magnitude < 1e21 { return GoFloatFormat.f(value) }
        // Go: AppendFloat(…, 'e', -1, 64), then "e-09" → "e-9".
        let text = GoFloatFormat.g(value)
        guard let e = text.firstIndex(of: "e") else { return text }
        let sign = text.index(after: e)
        guard sign < text.endIndex else { return text }
        let digits = text[text.index(after: sign)...].drop { $0 == "0" }
        return String(text[...sign]) + (digits.isEmpty ? "0" : String(digits))
    }
}
