/// One `relabel_configs` / `metric_relabel_configs` entry, with Prometheus' fields, defaults and
/// validation. Apply a list of rules with ``RelabelRule/process(_:rules:)``.
package struct RelabelRule: Hashable, Sendable {
    /// What a rule does.
    package enum Action: String, Hashable, Sendable, CaseIterable {
        case replace, keep, drop, keepequal, dropequal, hashmod, labelmap, labeldrop, labelkeep, lowercase, uppercase
    }

    /// The default `regex`, `(.*)`.
    package static let defaultRegexSource = "(.*)"
    /// The default `separator`.
    package static let defaultSeparator = ";"
    /// The default `replacement`.
    package static let defaultReplacement = "$1"

    /// Labels whose values, joined by `separator`, the rule reads.
    package let sourceLabels: [String]
    package let separator: String
    /// The label written (`replace`, `hashmod`, `lowercase`, `uppercase`) or compared with
    /// (`keepequal`, `dropequal`); a template for `replace`.
    package let targetLabel: String
    package let regex: AnchoredRegex
    package let modulus: UInt64
    package let replacement: String
    package let action: Action
    /// Which label names a `replace` or `labelmap` may produce.
    package let nameValidation: NameValidationScheme

    /// A validated rule; the error says which field is wrong, in Prometheus' words.
    package init(
        sourceLabels: [String] = [], separator: String = RelabelRule.defaultSeparator, targetLabel: String = "",
        regex: String = RelabelRule.defaultRegexSource, modulus: UInt64 = 0, replacement: String = RelabelRule.defaultReplacement,
        action: Action = .replace, nameValidation: NameValidationScheme = .utf8
    ) throws(ModelError) {
        self.sourceLabels = sourceLabels
        self.separator = separator
        self.targetLabel = targetLabel
        self.regex = try AnchoredRegex(regex)
        self.modulus = modulus
        self.replacement = replacement
        self.action = action
        self.nameValidation = nameValidation
        try validate()
    }

    /// Parses an action name, case-insensitively as Prometheus does.
    package static func action(named name: String) -> Action? {
        Action(rawValue: name.lowercased())
    }

    private func validate() throws(ModelError) {
        for name in sourceLabels where !nameValidation.isValidLabelName(name) {
            throw ModelError(code: .invalidLabelName, message: "\"\(name)\" is not a valid label name in source_labels")
        }
        let needsTarget: Set<Action> = [.replace, .hashmod, .lowercase, .uppercase, .keepequal, .dropequal]
        if needsTarget.contains(action) && targetLabel.isEmpty {
            throw invalid("relabel configuration for \(action.rawValue) action requires 'target_label' value")
        }
        if action == .hashmod && modulus == 0 {
            throw invalid("relabel configuration for hashmod requires non-zero modulus")
        }
        if action == .replace && !Self.isTemplateName(targetLabel, nameValidation) {
            throw invalid("\"\(targetLabel)\" is invalid 'target_label' for \(action.rawValue) action")
        }
        if [.lowercase, .uppercase, .keepequal, .dropequal, .hashmod].contains(action) && !nameValidation.isValidLabelName(targetLabel) {
            throw invalid("\"\(targetLabel)\" is invalid 'target_label' for \(action.rawValue) action")
        }
        if action == .keepequal || action == .dropequal,
           regex.source != Self.defaultRegexSource || modulus != 0 || separator != Self.defaultSeparator || replacement != Self.defaultReplacement {
            throw invalid("\(action.rawValue) action requires only 'source_labels' and `target_label`, and no other fields")
        }
        if action == .labelmap && !Self.isTemplateName(replacement, nameValidation) {
            throw invalid("\"\(replacement)\" is invalid 'replacement' for \(action.rawValue) action")
        }
        if action == .labeldrop || action == .labelkeep,
           !sourceLabels.isEmpty || !targetLabel.isEmpty || modulus != 0 || separator != Self.defaultSeparator || replacement != Self.defaultReplacement {
            throw invalid("\(action.rawValue) action requires only 'regex', and no other fields")
        }
    }

    private func invalid(_ message: String) -> ModelError {
        ModelError(code: .invalidLabelName, message: message)
    }

    /// Whether `text` can name a label once `$1`/`${name}` references are expanded: Prometheus'
    /// `^(?:(?:[a-zA-Z_]|\$(?:\{\w+\}|\w+))+\w*)+$` under the legacy scheme; any non-empty text
    /// under UTF-8.
    static func isTemplateName(_ text: String, _ scheme: NameValidationScheme) -> Bool {
        if scheme == .utf8 { return !text.isEmpty }
        let bytes = Array(text.utf8)
        func isWord(_ byte: UInt8) -> Bool {
            (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A) || byte == 0x5F
        }
        var index = 0
        var sawStart = false
        while index < bytes.count {
            let byte = bytes[index]
            if byte == UInt8(ascii: "$") {
                index += 1
                if index < bytes.count, bytes[index] == UInt8(ascii: "{") {
                    let start = index + 1
                    var end = start
                    while end < bytes.count, isWord(bytes[end]) { end += 1 }
                    guard end > start, end < bytes.count, bytes[end] == UInt8(ascii: "}") else { return false }
                    index = end + 1
                } else {
                    let start = index
                    while index < bytes.count, isWord(bytes[index]) { index += 1 }
                    guard index > start else { return false }
                }
                sawStart = true
            } else if isWord(byte) {
                // A digit may not start the name (it may follow a letter, `_` or a reference).
                if !sawStart && byte >= 0x30 && byte <= 0x39 { return false }
                sawStart = true
                index += 1
            } else {
                return false
            }
        }
        return sawStart
    }
}
