import Foundation
package import OspreyModel
import OspreyPromQLParser

/// One position of a promqltest value sequence.
package enum SequenceValue: Hashable, Sendable {
    /// A float sample (the staleness marker is `StaleMarker.value`).
    case float(Double)
    /// No sample at this position.
    case gap
    /// A native histogram sample, kept as its notation text (not evaluated yet).
    case histogram(String)
}

/// A problem in a promqltest script, with its line.
package struct PromQLTestScriptError: Error, CustomStringConvertible, Sendable {
    /// 1-based line number.
    package var line: Int
    /// What is wrong.
    package var message: String
    package var description: String { "line \(line): \(message)" }
}

/// Series descriptors and value sequences of promqltest scripts (FORMAT.md §3.1–3.2).
package enum SeriesNotation {
    /// Splits `metric{a="b"} 1 2 3` into the descriptor and the rest.
    static func splitDescriptor(_ line: Substring) -> (descriptor: Substring, values: Substring) {
        var index = line.startIndex
        var inQuotes = false
        var depth = 0
        while index < line.endIndex {
            let character = line[index]
            if inQuotes {
                if character == "\\" { index = line.index(after: index) } else if character == "\"" { inQuotes = false }
            } else if character == "\"" {
                inQuotes = true
            } else if character == "{" {
                depth += 1
            } else if character == "}" {
                depth -= 1
            } else if (character == " " || character == "\t") && depth == 0 {
                break
            }
            if index < line.endIndex { index = line.index(after: index) }
        }
        return (line[..<index], line[index...].drop(while: { $0 == " " || $0 == "\t" }))
    }

    /// The labels a descriptor names (`{}` is the empty set).
    package static func labels(_ descriptor: Substring, line: Int) throws(PromQLTestScriptError) -> Labels {
        let text = descriptor.trimmingCharacters(in: .whitespaces)
        if text == "{}" { return .empty }
        do {
            let matchers = try SeriesSelectorParser.parse(text)
            return Labels(sorting: matchers.map { Label(name: $0.name, value: $0.value) })
        } catch {
            throw PromQLTestScriptError(line: line, message: "invalid series descriptor \"\(text)\": \(error)")
        }
    }

    /// Expands a value sequence into positions.
    package static func values(_ text: Substring, line: Int) throws(PromQLTestScriptError) -> [SequenceValue] {
        var out: [SequenceValue] = []
        for item in try items(text, line: line) {
            try expand(item, into: &out, line: line)
        }
        return out
    }

    /// Whitespace-separated items; `{{ … }}` histograms (with spaces inside) stay whole.
    private static func items(_ text: Substring, line: Int) throws(PromQLTestScriptError) -> [Substring] {
        var out: [Substring] = []
        var rest = text[...]
        while true {
            rest = rest.drop(while: { $0 == " " || $0 == "\t" })
            guard !rest.isEmpty else { return out }
            if rest.hasPrefix("{{") {
                // A histogram item runs to its closing }} plus any +{{…}}xN / xN suffix.
                var depth = 0
                var index = rest.startIndex
                while index < rest.endIndex {
                    if rest[index] == "{" { depth += 1 }
                    if rest[index] == "}" { depth -= 1 }
                    index = rest.index(after: index)
                    if depth == 0, index < rest.endIndex, rest[index] == " " || rest[index] == "\t" { break }
                }
                guard depth == 0 else { throw PromQLTestScriptError(line: line, message: "unterminated histogram notation") }
                out.append(rest[..<index])
                rest = rest[index...]
            } else {
                let end = rest.firstIndex(where: { $0 == " " || $0 == "\t" }) ?? rest.endIndex
                out.append(rest[..<end])
                rest = rest[end...]
            }
        }
    }

    private static func expand(_ item: Substring, into out: inout [SequenceValue], line: Int) throws(PromQLTestScriptError) {
        if item.hasPrefix("{{") {
            out.append(.histogram(String(item)))
            return
        }
        if item == "_" { out.append(.gap); return }
        if item == "stale" { out.append(.float(StaleMarker.value)); return }
        var head = item
        var repeats: Int?
        if let x = item.lastIndex(of: "x"), let count = Int(item[item.index(after: x)...]), count >= 0 {
            head = item[..<x]
            repeats = count
        }
        if head == "_" {
            guard let repeats else { throw PromQLTestScriptError(line: line, message: "invalid item \"\(item)\"") }
            out.append(contentsOf: repeatElement(.gap, count: repeats))
            return
        }
        guard let repeats else {
            guard let value = number(head) else { throw PromQLTestScriptError(line: line, message: "invalid value \"\(item)\"") }
            out.append(.float(value))
            return
        }
        var start = head
        var step = 0.0
        if let split = operatorIndex(head) {
            guard let increment = number(head[head.index(after: split)...]) else {
                throw PromQLTestScriptError(line: line, message: "invalid increment in \"\(item)\"")
            }
            step = head[split] == "-" ? -increment : increment
            start = head[..<split]
        }
        guard var value = number(start) else { throw PromQLTestScriptError(line: line, message: "invalid value \"\(item)\"") }
        // Repeated addition, as the reference (not start + i*step), for bit-identical inputs.
        for position in 0...repeats {
            if position > 0 { value += step }
            out.append(.float(value))
        }
    }

    /// The `+`/`-` between start and increment (not a sign or an exponent's sign).
    private static func operatorIndex(_ text: Substring) -> Substring.Index? {
        var index = text.index(after: text.startIndex)
        while index < text.endIndex {
            let character = text[index]
            if character == "+" || character == "-" {
                let previous = text[text.index(before: index)]
                if previous != "e" && previous != "E" { return index }
            }
            index = text.index(after: index)
        }
        return nil
    }

    /// A float as the scripts write them (`1`, `-2.5`, `.5`, `1e3`, `+Inf`, `nan`).
    package static func number(_ text: Substring) -> Double? {
        var body = text
        var sign = 1.0
        if body.hasPrefix("+") { body = body.dropFirst() } else if body.hasPrefix("-") {
            sign = -1
            body = body.dropFirst()
        }
        switch body.lowercased() {
        case "inf": return sign * .infinity
        case "nan": return .nan
        default: break
        }
        guard let first = body.first, first.isNumber || first == "." else { return nil }
        return Double(body).map { sign * $0 }
    }
}
