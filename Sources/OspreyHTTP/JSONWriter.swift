import HTTPTypes
import OspreyModel
import Hummingbird
import NIOCore
import OspreyPromQLParser

/// A small streaming JSON writer producing exactly the bytes the Prometheus API emits.
struct JSONWriter {
    private(set) var buffer = ByteBuffer()

    /// Writes an object whose fields `body` adds.
    mutating func object(_ body: (inout ObjectWriter) -> Void) {
        buffer.writeStaticString("{")
        var object = ObjectWriter(writer: self)
        buffer = ByteBuffer()
        body(&object)
        self = object.writer
        // Drop the second reference before writing, or the write copies the whole buffer.
        object.writer.buffer = ByteBuffer()
        buffer.writeStaticString("}")
    }

    /// Writes an array whose elements `body` adds.
    mutating func array(_ body: (inout ArrayWriter) -> Void) {
        buffer.writeStaticString("[")
        var array = ArrayWriter(writer: self)
        buffer = ByteBuffer()
        body(&array)
        self = array.writer
        array.writer.buffer = ByteBuffer()
        buffer.writeStaticString("]")
    }

    /// Writes a JSON string.
    mutating func string(_ value: String) {
        buffer.writeStaticString("\"")
        var start = value.utf8.startIndex
        let utf8 = value.utf8
        var index = start
        while index != utf8.endIndex {
            let byte = utf8[index]
            if byte < 0x20 || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") {
                buffer.writeBytes(utf8[start..<index])
                switch byte {
                case UInt8(ascii: "\""): buffer.writeStaticString("\\\"")
                case UInt8(ascii: "\\"): buffer.writeStaticString("\\\\")
                case 0x0A: buffer.writeStaticString("\\n")
                case 0x0D: buffer.writeStaticString("\\r")
                case 0x09: buffer.writeStaticString("\\t")
                default:
                    let hex = Array("0123456789abcdef".utf8)
                    buffer.writeBytes([0x5C, 0x75, 0x30, 0x30, hex[Int(byte >> 4)], hex[Int(byte & 0xF)]])
                }
                start = utf8.index(after: index)
            }
            index = utf8.index(after: index)
        }
        buffer.writeBytes(utf8[start..<utf8.endIndex])
        buffer.writeStaticString("\"")
    }

    /// Writes raw JSON (a number, `true`, `null`).
    mutating func raw(_ text: String) {
        buffer.writeString(text)
    }

    /// A 2xx/4xx response carrying the written JSON.
    func response(status: HTTPResponse.Status = .ok) -> Response {
        Response(status: status, headers: [.contentType: "application/json"], body: ResponseBody(byteBuffer: buffer))
    }

    /// Writes fields of an object, adding commas.
    struct ObjectWriter {
        fileprivate var writer: JSONWriter
        private var first = true

        fileprivate init(writer: JSONWriter) {
            self.writer = writer
        }

        private mutating func key(_ name: String) {
            if !first { writer.buffer.writeStaticString(",") }
            first = false
            writer.string(name)
            writer.buffer.writeStaticString(":")
        }

        mutating func field(_ name: String, _ value: String) {
            key(name)
            writer.string(value)
        }

        mutating func field(_ name: String, raw value: String) {
            key(name)
            writer.raw(value)
        }

        mutating func field(_ name: String, _ value: (inout JSONWriter) -> Void) {
            key(name)
            value(&writer)
        }
    }

    /// Writes elements of an array, adding commas.
    struct ArrayWriter {
        fileprivate var writer: JSONWriter
        private var first = true

        fileprivate init(writer: JSONWriter) {
            self.writer = writer
        }

        mutating func element(_ value: (inout JSONWriter) -> Void) {
            if !first { writer.buffer.writeStaticString(",") }
            first = false
            value(&writer)
        }

        mutating func string(_ value: String) {
            element { $0.string(value) }
        }
    }
}

/// A flat JSON byte sink for large responses (query results): no nesting closures, one
/// growing array.
struct JSONBytes {
    private(set) var bytes: [UInt8] = []

    init() {
        bytes.reserveCapacity(4096)
    }

    /// Appends text that is already JSON.
    mutating func raw(_ text: String) {
        bytes.append(contentsOf: text.utf8)
    }

    /// Appends one byte.
    mutating func byte(_ value: UInt8) {
        bytes.append(value)
    }

    /// Appends a float as Go's `FormatFloat(f, 'f', -1, 64)` (NaN, +Inf, -Inf spelled out).
    mutating func float(_ value: Double) {
        GoFloatFormat.appendF(value, to: &bytes)
    }

    /// Appends a millisecond timestamp as Prometheus' `MarshalTimestamp`: seconds, then the
    /// milliseconds with leading zeros when not zero.
    mutating func timestamp(_ ms: Int64) {
        var magnitude = ms.magnitude
        if ms < 0 { bytes.append(UInt8(ascii: "-")) }
        let fraction = magnitude % 1000
        magnitude /= 1000
        GoFloatFormat.appendInteger(magnitude, to: &bytes)
        if fraction != 0 {
            bytes.append(UInt8(ascii: "."))
            bytes.append(UInt8(ascii: "0") + UInt8(fraction / 100))
            bytes.append(UInt8(ascii: "0") + UInt8(fraction / 10 % 10))
            bytes.append(UInt8(ascii: "0") + UInt8(fraction % 10))
        }
    }


    /// Appends a JSON string literal, escaped as JSONWriter escapes.
    mutating func string(_ value: String) {
        bytes.append(UInt8(ascii: "\""))
        for byte in value.utf8 {
            if byte < 0x20 || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") {
                switch byte {
                case UInt8(ascii: "\""): bytes.append(contentsOf: [0x5C, 0x22])
                case UInt8(ascii: "\\"): bytes.append(contentsOf: [0x5C, 0x5C])
                case 0x0A: bytes.append(contentsOf: [0x5C, UInt8(ascii: "n")])
                case 0x0D: bytes.append(contentsOf: [0x5C, UInt8(ascii: "r")])
                case 0x09: bytes.append(contentsOf: [0x5C, UInt8(ascii: "t")])
                default:
                    let hex = Array("0123456789abcdef".utf8)
                    bytes.append(contentsOf: [0x5C, 0x75, 0x30, 0x30, hex[Int(byte >> 4)], hex[Int(byte & 0xF)]])
                }
            } else {
                bytes.append(byte)
            }
        }
        bytes.append(UInt8(ascii: "\""))
    }
}
