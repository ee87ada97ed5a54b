import OspreyModel

/// A token of PromQL text.
package struct PromQLToken: Hashable, Sendable {
    /// Token kinds.
    package enum Kind: Hashable, Sendable {
        case identifier(String)
        case number(Double)
        case duration(ms: Int64)
        case string(String)
        case op(String)
        case eof
    }

    /// The kind and payload.
    package var kind: Kind
    /// First byte of the token.
    package var start: Int
    /// One past its last byte.
    package var end: Int
}

/// Splits PromQL text into tokens (Prometheus' lexer rules: Go-style strings, hex, Inf/NaN,
/// durations such as `1h30m`, metric names with colons).
package struct PromQLLexer {
    private let bytes: [UInt8]
    private var position = 0
    /// Inside `[...]` a colon separates range and step; elsewhere it may start a metric name.
    private var bracketDepth = 0

    /// A lexer over `text`.
    package init(_ text: String) {
        bytes = Array(text.utf8)
    }

    /// All tokens, ending with `.eof`.
    package static func tokens(_ text: String) throws(PromQLParseError) -> [PromQLToken] {
        var lexer = PromQLLexer(text)
        var out: [PromQLToken] = []
        while true {
            let token = try lexer.next()
            out.append(token)
            if token.kind == .eof { return out }
        }
    }

    private static let operators = ["==", "!=", ">=", "<=", "=~", "!~", "+", "-", "*", "/", "%", "^", ">", "<", "=", ",", "(", ")", "{", "}", "[", "]", ":", "@"]

    private mutating func next() throws(PromQLParseError) -> PromQLToken {
        skipSpaceAndComments()
        let start = position
        guard position < bytes.count else { return PromQLToken(kind: .eof, start: start, end: start) }
        let byte = bytes[position]
        if byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "'") || byte == UInt8(ascii: "`") {
            var scanner = StringLiteralScanner(bytes)
            scanner.skip(to: position)
            guard let value = try scanner.quotedString() else {
                throw PromQLParseError(position: start, message: "unterminated quoted string")
            }
            position = scanner.position
            return PromQLToken(kind: .string(value), start: start, end: position)
        }
        if isDigit(byte) || (byte == UInt8(ascii: ".") && position + 1 < bytes.count && isDigit(bytes[position + 1])) {
            return try number(start)
        }
        if isIdentifierStart(byte) && !(byte == UInt8(ascii: ":") && bracketDepth > 0) {
            while position < bytes.count && (isIdentifierStart(bytes[position]) || isDigit(bytes[position])) { position += 1 }
            let word = String(decoding: bytes[start..<position], as: UTF8.self)
            switch word.lowercased() {
            case "inf": return PromQLToken(kind: .number(.infinity), start: start, end: position)
            case "nan": return PromQLToken(kind: .number(.nan), start: start, end: position)
            default: return PromQLToken(kind: .identifier(word), start: start, end: position)
            }
        }
        for op in Self.operators {
            let opBytes = Array(op.utf8)
            if position + opBytes.count <= bytes.count && Array(bytes[position..<(position + opBytes.count)]) == opBytes {
                position += opBytes.count
                if op == "[" { bracketDepth += 1 }
                if op == "]" { bracketDepth = max(0, bracketDepth - 1) }
                return PromQLToken(kind: .op(op), start: start, end: position)
            }
        }
        throw PromQLParseError(position: start, message: "unexpected character: '\(String(decoding: [byte], as: UTF8.self))'")
    }

    private mutating func number(_ start: Int) throws(PromQLParseError) -> PromQLToken {
        // Hexadecimal.
        if bytes[position] == UInt8(ascii: "0"), position + 1 < bytes.count, bytes[position + 1] | 0x20 == UInt8(ascii: "x") {
            position += 2
            let digitsStart = position
            while position < bytes.count, isHex(bytes[position]) { position += 1 }
            guard position > digitsStart, let value = UInt64(String(decoding: bytes[digitsStart..<position], as: UTF8.self), radix: 16) else {
                throw PromQLParseError(position: start, message: "bad number or duration syntax: \"\(text(start))\"")
            }
            return PromQLToken(kind: .number(Double(value)), start: start, end: position)
        }
        // A duration: digits followed by a unit, possibly several parts (1h30m).
        var probe = position
        while probe < bytes.count, isDigit(bytes[probe]) { probe += 1 }
        if probe < bytes.count, [UInt8(ascii: "y"), UInt8(ascii: "w"), UInt8(ascii: "d"), UInt8(ascii: "h"), UInt8(ascii: "m"), UInt8(ascii: "s")].contains(bytes[probe]) {
            while position < bytes.count && (isDigit(bytes[position]) || isLetter(bytes[position])) { position += 1 }
            let literal = text(start)
            guard let ms = PrometheusDurationParser.milliseconds(literal) else {
                throw PromQLParseError(position: start, message: "bad number or duration syntax: \"\(literal)\"")
            }
            return PromQLToken(kind: .duration(ms: ms), start: start, end: position)
        }
        while position < bytes.count, isDigit(bytes[position]) || bytes[position] == UInt8(ascii: ".") { position += 1 }
        if position < bytes.count, bytes[position] | 0x20 == UInt8(ascii: "e") {
            var exponent = position + 1
            if exponent < bytes.count, bytes[exponent] == UInt8(ascii: "+") || bytes[exponent] == UInt8(ascii: "-") { exponent += 1 }
            if exponent < bytes.count, isDigit(bytes[exponent]) {
                position = exponent
                while position < bytes.count, isDigit(bytes[position]) { position += 1 }
            }
        }
        if position < bytes.count, isIdentifierStart(bytes[position]), !(bytes[position] == UInt8(ascii: ":") && bracketDepth > 0) {
            while position < bytes.count, isIdentifierStart(bytes[position]) || isDigit(bytes[position]) { position += 1 }
            throw PromQLParseError(position: start, message: "bad number or duration syntax: \"\(text(start))\"")
        }
        guard let value = Double(text(start)) else {
            throw PromQLParseError(position: start, message: "bad number or duration syntax: \"\(text(start))\"")
        }
        return PromQLToken(kind: .number(value), start: start, end: position)
    }

    private func text(_ start: Int) -> String {
        String(decoding: bytes[start..<position], as: UTF8.self)
    }

    private mutating func skipSpaceAndComments() {
        while position < bytes.count {
            let byte = bytes[position]
            if byte == 0x20 || byte == 0x09 || byte == 0x0A || byte == 0x0D {
                position += 1
            } else if byte == UInt8(ascii: "#") {
                while position < bytes.count && bytes[position] != 0x0A { position += 1 }
            } else {
                return
            }
        }
    }
}

private func isDigit(_ byte: UInt8) -> Bool { byte >= 0x30 && byte <= 0x39 }
private func isLetter(_ byte: UInt8) -> Bool { (byte | 0x20) >= 0x61 && (byte | 0x20) <= 0x7A }
private func isHex(_ byte: UInt8) -> Bool { isDigit(byte) || ((byte | 0x20) >= 0x61 && (byte | 0x20) <= 0x66) }
private func isIdentifierStart(_ byte: UInt8) -> Bool { isLetter(byte) || byte == UInt8(ascii: "_") || byte == UInt8(ascii: ":") }

/// Prometheus duration literals in PromQL (same syntax as ``PrometheusDuration``).
enum PrometheusDurationParser {
    static func milliseconds(_ text: String) -> Int64? {
        PrometheusDuration.parseMilliseconds(text)
    }
}
