import Foundation

/// A fully anchored regular-expression matcher with Prometheus' fast paths.
///
/// Prometheus anchors label regexes (`^(?s:re)$`) and, since 3.0, lets `.` match newlines.
/// Common shapes skip the regex engine: `.*`, `.+`, literals, literal alternations and literal
/// prefixes followed by `.*`. Thread-safe: `NSRegularExpression` may be shared across threads.
package struct FastRegexMatcher: Sendable {
    private enum Strategy: Sendable {
        case any
        case nonEmpty
        case literalSet(Set<String>)
        case prefix(String)
        case engine(AnchoredRegex)
    }

    private let strategy: Strategy
    /// For literal alternations, the accepted values in source order.
    package let literalAlternatives: [String]?

    /// Compiles `source`; throws `.invalidRegex` when it is not a valid expression.
    package init(_ source: String) throws(ModelError) {
        // Compile even when a fast path applies, so invalid input is always rejected.
        let compiled = try AnchoredRegex(source)
        let body = Self.stripGroup(source)
        if body == ".*" {
            strategy = .any
            literalAlternatives = nil
        } else if body == ".+" {
            strategy = .nonEmpty
            literalAlternatives = nil
        } else if let alternatives = Self.literalAlternatives(body) {
            strategy = .literalSet(Set(alternatives))
            literalAlternatives = alternatives
        } else if body.hasSuffix(".*"), let prefix = Self.literal(String(body.dropLast(2))), !prefix.isEmpty {
            strategy = .prefix(prefix)
            literalAlternatives = nil
        } else {
            strategy = .engine(compiled)
            literalAlternatives = nil
        }
    }

    /// Whether the whole of `value` matches.
    package func matches(_ value: String) -> Bool {
        switch strategy {
        case .any: return true
        case .nonEmpty: return !value.isEmpty
        case .literalSet(let set): return set.contains(value)
        case .prefix(let prefix): return value.hasPrefix(prefix)
        case .engine(let regex): return regex.matches(value)
        }
    }

    private static func stripGroup(_ source: String) -> String {
        var body = Substring(source)
        if body.hasPrefix("(?:") && body.hasSuffix(")") {
            let inner = body.dropFirst(3).dropLast()
            if !inner.contains("(") && !inner.contains(")") { body = inner }
        } else if body.hasPrefix("(") && body.hasSuffix(")") && !body.hasPrefix("(?") {
            let inner = body.dropFirst().dropLast()
            if !inner.contains("(") && !inner.contains(")") { body = inner }
        }
        return String(body)
    }

    private static let metacharacters: Set<Character> = ["\\", ".", "+", "*", "?", "(", ")", "|", "[", "]", "{", "}", "^", "$"]

    /// The unescaped literal if `text` has no regex operators (escaped punctuation is allowed).
    private static func literal(_ text: String) -> String? {
        var out = ""
        var escaped = false
        for char in text {
            if escaped {
                guard metacharacters.contains(char) || char == "-" || char == "/" else { return nil }
                out.append(char)
                escaped = false
            } else if char == "\\" {
                escaped = true
            } else if metacharacters.contains(char) {
                return nil
            } else {
                out.append(char)
            }
        }
        return escaped ? nil : out
    }

    private static func literalAlternatives(_ body: String) -> [String]? {
        var parts: [String] = []
        var current = ""
        var escaped = false
        for char in body {
            if escaped {
                current.append("\\")
                current.append(char)
                escaped = false
            } else if char == "\\" {
                escaped = true
            } else if char == "|" {
                parts.append(current)
                current = ""
            } else {
                current.append(char)
            }
        }
        if escaped { return nil }
        parts.append(current)
        var literals: [String] = []
        for part in parts {
            guard let literal = literal(part) else { return nil }
            literals.append(literal)
        }
        return literals
    }
}
