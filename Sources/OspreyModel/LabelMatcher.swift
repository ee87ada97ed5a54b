/// How a ``LabelMatcher`` compares a label value.
package enum MatchType: String, Hashable, Sendable, CaseIterable {
    /// `=`
    case equal = "="
    /// `!=`
    case notEqual = "!="
    /// `=~`, a fully anchored RE2 regular expression.
    case regexMatch = "=~"
    /// `!~`
    case notRegexMatch = "!~"
}

/// A label matcher as in PromQL selectors and `match[]` parameters, with Prometheus semantics:
/// a missing label has the value "", and regular expressions are fully anchored.
///
/// Regexes get fast paths for `.*`, `.+`, literal alternations (`a|b|c`) and literal prefixes.
package struct LabelMatcher: Hashable, Sendable, CustomStringConvertible {
    /// The match operator.
    package let type: MatchType
    /// The label name.
    package let name: String
    /// The literal value or the regex source.
    package let value: String
    private let regex: FastRegexMatcher?

    /// Creates a matcher; throws ``ModelError`` with code `.invalidRegex` if the regex does not compile.
    package init(_ type: MatchType, _ name: String, _ value: String) throws(ModelError) {
        self.type = type
        self.name = name
        self.value = value
        switch type {
        case .equal, .notEqual: regex = nil
        case .regexMatch, .notRegexMatch: regex = try FastRegexMatcher(value)
        }
    }

    /// Whether `value` (the label's value, "" when absent) matches.
    package func matches(_ candidate: String) -> Bool {
        switch type {
        case .equal: return candidate == value
        case .notEqual: return candidate != value
        case .regexMatch: return regex?.matches(candidate) ?? false
        case .notRegexMatch: return !(regex?.matches(candidate) ?? false)
        }
    }

    /// Whether the matcher selects series that lack the label (it matches the empty string).
    package var matchesEmpty: Bool { matches("") }

    /// For `=~` with a literal alternation: the finite set of values it accepts.
    package var setMatches: [String]? { type == .regexMatch ? regex?.literalAlternatives : nil }

    /// `name="value"` in PromQL syntax.
    package var description: String {
        var escaped = ""
        for scalar in value.unicodeScalars {
            switch scalar {
            case "\"": escaped += "\\\""
            case "\\": escaped += "\\\\"
            case "\n": escaped += "\\n"
            default: escaped.unicodeScalars.append(scalar)
            }
        }
        return "\(name)\(type.rawValue)\"\(escaped)\""
    }

    package static func == (lhs: LabelMatcher, rhs: LabelMatcher) -> Bool {
        lhs.type == rhs.type && lhs.name == rhs.name && lhs.value == rhs.value
    }

    package func hash(into hasher: inout Hasher) {
        hasher.combine(type)
        hasher.combine(name)
        hasher.combine(value)
    }
}
