import OspreyModel

/// Scans PromQL string literals: Go-style quoted strings (with escapes) and raw backquoted strings.
struct StringLiteralScanner {
    private let bytes: [UInt8]
    private(set) var position = 0

    init(_ bytes: [UInt8]) {
        self.bytes = bytes
    }

    var peek: UInt8? { position < bytes.count ? bytes[position] : nil }

    /// Moves to `offset` (the lexer hands string literals to this scanner).
    mutating func skip(to offset: Int) {
        position = offset
    }

    /// A string in double or single quotes (Go escapes) or backticks (raw); nil if none starts here.
    mutating func quotedString() throws(PromQLParseError) -> String? {
        guard let quote = peek, quote == UInt8(ascii: "\"") || quote == UInt8(ascii: "'") || quote == UInt8(ascii: "`") else {
            return nil
        }
        let start = position
        position += 1
        var out: [UInt8] = []
        while true {
            guard let byte = peek else {
                throw PromQLParseError(position: start, message: "unterminated quoted string")
            }
            position += 1
            if byte == quote { break }
            if quote != UInt8(ascii: "`") && byte == 0x0A {
                throw PromQLParseError(position: start, message: "unterminated quoted string")
            }
            if byte == UInt8(ascii: "\\") && quote != UInt8(ascii: "`") {
                try unescape(into: &out, quote: quote)
            } else {
                out.append(byte)
            }
        }
        // Go strings may hold invalid UTF-8 (e.g. "\xff"); Swift strings cannot, so such bytes
        // become U+FFFD, which later validation rejects just as it rejects the raw bytes.
        return String(decoding: out, as: UTF8.self)
    }

    private mutating func unescape(into out: inout [UInt8], quote: UInt8) throws(PromQLParseError) {
        let escapeStart = position - 1
        guard let byte = peek else { throw PromQLParseError(position: escapeStart, message: "unterminated escape sequence") }
        position += 1
        switch byte {
        case UInt8(ascii: "n"): out.append(0x0A)
        case UInt8(ascii: "t"): out.append(0x09)
        case UInt8(ascii: "r"): out.append(0x0D)
        case UInt8(ascii: "a"): out.append(0x07)
        case UInt8(ascii: "b"): out.append(0x08)
        case UInt8(ascii: "f"): out.append(0x0C)
        case UInt8(ascii: "v"): out.append(0x0B)
        case UInt8(ascii: "\\"): out.append(0x5C)
        case quote: out.append(quote)
        case UInt8(ascii: "x"): out.append(UInt8(try hexDigits(2, escapeStart)))
        case UInt8(ascii: "u"): try appendScalar(try hexDigits(4, escapeStart), &out, escapeStart)
        case UInt8(ascii: "U"): try appendScalar(try hexDigits(8, escapeStart), &out, escapeStart)
        case UInt8(ascii: "0")...UInt8(ascii: "7"):
            var value = UInt32(byte - 0x30)
            for _ in 0..<2 {
                guard let digit = peek, digit >= 0x30 && digit <= 0x37 else {
                    throw PromQLParseError(position: escapeStart, message: "invalid octal escape sequence")
                }
                value = value * 8 + UInt32(digit - 0x30)
                position += 1
            }
            guard value <= 255 else { throw PromQLParseError(position: escapeStart, message: "octal escape value > 255") }
            out.append(UInt8(value))
        default:
            throw PromQLParseError(position: escapeStart, message: "unknown escape sequence \"\\\(String(decoding: [byte], as: UTF8.self))\"")
        }
    }

    private mutating func hexDigits(_ count: Int, _ escapeStart: Int) throws(PromQLParseError) -> UInt32 {
        var value: UInt32 = 0
        for _ in 0..<count {
            guard let byte = peek, let digit = hexValue(byte) else {
                throw PromQLParseError(position: escapeStart, message: "invalid hex escape sequence")
            }
            value = value * 16 + digit
            position += 1
        }
        return value
    }

    private func appendScalar(_ value: UInt32, _ out: inout [UInt8], _ escapeStart: Int) throws(PromQLParseError) {
        guard let scalar = Unicode.Scalar(value) else {
            throw PromQLParseError(position: escapeStart, message: "invalid Unicode code point in escape sequence")
        }
        out.append(contentsOf: String(Character(scalar)).utf8)
    }
}

private func hexValue(_ byte: UInt8) -> UInt32? {
    switch byte {
    case UInt8(ascii: "0")...UInt8(ascii: "9"): return UInt32(byte - 0x30)
    case UInt8(ascii: "a")...UInt8(ascii: "f"): return UInt32(byte - 0x61 + 10)
    case UInt8(ascii: "A")...UInt8(ascii: "F"): return UInt32(byte - 0x41 + 10)
    default: return nil
    }
}
