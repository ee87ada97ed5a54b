import Foundation

/// A Go (RE2) regular expression anchored at both ends, as Prometheus anchors label regexes
/// (`^(?s:re)$`), with capture groups for templates: `$1`, `${1}`, `$name`, `${name}`, `$$`.
/// Immutable and shareable across threads.
package final class AnchoredRegex: @unchecked Sendable, Hashable, CustomStringConvertible {
    /// The expression as written.
    package let source: String
    // Immutable after init; NSRegularExpression is safe to use from many threads.
    private let regex: NSRegularExpression
    private let groupNumbers: [String: Int]

    /// Compiles `source`; throws `.invalidRegex` when it is not a valid expression.
    package init(_ source: String) throws(ModelError) {
        let syntax = GoRegexSyntax(source)
        do {
            regex = try NSRegularExpression(pattern: "^(?:" + syntax.icuPattern + ")$", options: [.dotMatchesLineSeparators])
        } catch {
            throw ModelError(code: .invalidRegex, message: "invalid regular expression \"\(source)\": \(error.localizedDescription)")
        }
        self.source = source
        groupNumbers = syntax.groupNumbers
    }

    /// Whether the whole of `value` matches.
    package func matches(_ value: String) -> Bool {
        regex.firstMatch(in: value, options: [.anchored], range: NSRange(value.startIndex..<value.endIndex, in: value)) != nil
    }

    /// `template` expanded with the groups of the match of `value` (Go's `Regexp.ExpandString`),
    /// or nil when `value` does not match.
    package func expand(_ template: String, matching value: String) -> String? {
        guard let match = regex.firstMatch(in: value, options: [.anchored], range: NSRange(value.startIndex..<value.endIndex, in: value)) else {
            return nil
        }
        return Self.expand(template, match: match, in: value, groups: groupNumbers)
    }

    /// Go's `Regexp.Expand`: `$1`, `${1}`, `$name`, `${name}`, `$$`; `$1x` names group "1x";
    /// a group that did not take part, or does not exist, expands to nothing.
    static func expand(_ template: String, match: NSTextCheckingResult, in value: String, groups: [String: Int]) -> String {
        guard template.utf8.contains(UInt8(ascii: "$")) else { return template }
        var out = ""
        var characters = Array(template)[...]
        while let character = characters.popFirst() {
            guard character == "$" else {
                out.append(character)
                continue
            }
            if characters.first == "$" {
                characters = characters.dropFirst()
                out.append("$")
                continue
            }
            var name = ""
            if characters.first == "{" {
                guard let close = characters.firstIndex(of: "}") else {
                    out.append("$")
                    continue
                }
                name = String(characters[characters.index(after: characters.startIndex)..<close])
                characters = characters[characters.index(after: close)...]
            } else {
                while let next = characters.first, next.isLetter || next.isNumber || next == "_" {
                    name.append(next)
                    characters = characters.dropFirst()
                }
                if name.isEmpty {
                    out.append("$")
                    continue
                }
            }
            var groupRange = NSRange(location: NSNotFound, length: 0)
            if let index = Int(name) ?? groups[name], index < match.numberOfRanges {
                groupRange = match.range(at: index)
            }
            if groupRange.location != NSNotFound, let range = Range(groupRange, in: value) {
                out += value[range]
            }
        }
        return out
    }

    package static func == (lhs: AnchoredRegex, rhs: AnchoredRegex) -> Bool { lhs.source == rhs.source }
    package func hash(into hasher: inout Hasher) { hasher.combine(source) }
    package var description: String { source }
}
