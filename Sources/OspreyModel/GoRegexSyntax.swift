/// Go's RE2 syntax as ICU (NSRegularExpression) reads it. The two agree but for named groups:
/// RE2 writes `(?P<name>…)` or `(?<name>…)` and allows `_` in names, ICU allows neither, so
/// named groups become plain capture groups and their names are kept aside, by group number.
package struct GoRegexSyntax: Sendable {
    /// The pattern for ICU.
    package let icuPattern: String
    /// Capture group numbers by name.
    package let groupNumbers: [String: Int]

    /// Translates `pattern`.
    package init(_ pattern: String) {
        var out: [UInt8] = []
        var names: [String: Int] = [:]
        let bytes = Array(pattern.utf8)
        var index = 0
        var group = 0
        var inClass = false
        var quoted = false
        while index < bytes.count {
            let byte = bytes[index]
            if quoted {
                if byte == UInt8(ascii: "\\"), index + 1 < bytes.count, bytes[index + 1] == UInt8(ascii: "E") { quoted = false }
                out.append(byte)
                index += 1
                continue
            }
            if byte == UInt8(ascii: "\\"), index + 1 < bytes.count {
                if bytes[index + 1] == UInt8(ascii: "Q") { quoted = true }
                out.append(byte)
                out.append(bytes[index + 1])
                index += 2
                continue
            }
            if inClass {
                if byte == UInt8(ascii: "]") { inClass = false }
                out.append(byte)
                index += 1
                continue
            }
            if byte == UInt8(ascii: "[") {
                inClass = true
                out.append(byte)
                index += 1
                // A `]` right after `[` or `[^` is a literal.
                if index < bytes.count, bytes[index] == UInt8(ascii: "^") {
                    out.append(bytes[index])
                    index += 1
                }
                if index < bytes.count, bytes[index] == UInt8(ascii: "]") {
                    out.append(bytes[index])
                    index += 1
                }
                continue
            }
            if byte == UInt8(ascii: "(") {
                let rest = bytes[(index + 1)...]
                var nameStart: Int?
                if rest.starts(with: Array("?P<".utf8)) {
                    nameStart = index + 4
                } else if rest.starts(with: Array("?<".utf8)), index + 3 < bytes.count, bytes[index + 3] != UInt8(ascii: "="), bytes[index + 3] != UInt8(ascii: "!") {
                    nameStart = index + 3
                }
                if let nameStart, let close = bytes[nameStart...].firstIndex(of: UInt8(ascii: ">")) {
                    group += 1
                    let name = String(decoding: bytes[nameStart..<close], as: UTF8.self)
                    if names[name] == nil { names[name] = group }
                    out.append(byte)
                    index = close + 1
                    continue
                }
                if rest.first != UInt8(ascii: "?") { group += 1 }
            }
            out.append(byte)
            index += 1
        }
        icuPattern = String(decoding: out, as: UTF8.self)
        groupNumbers = names
    }
}
