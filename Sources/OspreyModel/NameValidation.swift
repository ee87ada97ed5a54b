/// Which metric and label names are valid: Prometheus 3's `metric_name_validation_scheme`.
package enum NameValidationScheme: String, Hashable, Sendable {
    /// Any non-empty valid UTF-8 (the Prometheus 3 default).
    case utf8
    /// `[a-zA-Z_:][a-zA-Z0-9_:]*` for metric names and `[a-zA-Z_][a-zA-Z0-9_]*` for labels.
    case legacy

    /// Whether `name` is a valid metric name under this scheme.
    package func isValidMetricName(_ name: String) -> Bool {
        guard !name.isEmpty else { return false }
        if self == .utf8 { return true }
        var first = true
        for byte in name.utf8 {
            let ok = isLetter(byte) || byte == UInt8(ascii: "_") || byte == UInt8(ascii: ":") || (!first && isDigit(byte))
            if !ok { return false }
            first = false
        }
        return true
    }

    /// Whether `name` is a valid label name under this scheme.
    package func isValidLabelName(_ name: String) -> Bool {
        guard !name.isEmpty else { return false }
        if self == .utf8 { return true }
        var first = true
        for byte in name.utf8 {
            let ok = isLetter(byte) || byte == UInt8(ascii: "_") || (!first && isDigit(byte))
            if !ok { return false }
            first = false
        }
        return true
    }

    /// Checks a series' label set as Prometheus' remote-write receiver and scrape do: non-empty,
    /// a valid metric name, valid unique label names. Throws ``ModelError``.
    package func validate(_ labels: Labels) throws(ModelError) {
        guard !labels.isEmpty else {
            throw ModelError(code: .emptyLabelSet, message: "series has no labels")
        }
        if let name = labels.metricName, !isValidMetricName(name) {
            throw ModelError(code: .invalidMetricName, message: "invalid metric name \"\(name)\" in \(labels)")
        }
        for label in labels where !isValidLabelName(label.name) {
            throw ModelError(code: .invalidLabelName, message: "invalid label name \"\(label.name)\" in \(labels)")
        }
        if let duplicate = labels.duplicateName {
            throw ModelError(code: .duplicateLabelName, message: "duplicate label name \"\(duplicate)\" in \(labels)")
        }
    }
}

private func isLetter(_ byte: UInt8) -> Bool {
    (byte >= UInt8(ascii: "a") && byte <= UInt8(ascii: "z")) || (byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z"))
}

private func isDigit(_ byte: UInt8) -> Bool {
    byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9")
}
