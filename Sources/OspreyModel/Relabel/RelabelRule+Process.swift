extension RelabelRule {
    /// Applies `rules` in order to `labels`, as Prometheus' `relabel.Process` does: nil when a
    /// rule drops the label set, else the relabelled set (an empty value deletes a label).
    package static func process(_ labels: Labels, rules: [RelabelRule]) -> Labels? {
        guard !rules.isEmpty else { return labels }
        var current = RelabelScratch(labels)
        for rule in rules {
            guard rule.apply(to: &current) else { return nil }
        }
        return current.labels()
    }

    /// Applies this rule; false when it drops the label set.
    fileprivate func apply(to current: inout RelabelScratch) -> Bool {
        let value = sourceLabels.count == 1 ? current[sourceLabels[0]] : sourceLabels.map { current[$0] }.joined(separator: separator)
        switch action {
        case .drop:
            return !regex.matches(value)
        case .keep:
            return regex.matches(value)
        case .dropequal:
            return current[targetLabel] != value
        case .keepequal:
            return current[targetLabel] == value
        case .replace:
            guard let target = regex.expand(targetLabel, matching: value) else { return true }
            guard nameValidation.isValidLabelName(target) else { return true }
            let result = regex.expand(replacement, matching: value) ?? ""
            current.set(target, result)
        case .lowercase:
            current.set(targetLabel, value.lowercased())
        case .uppercase:
            current.set(targetLabel, value.uppercased())
        case .hashmod:
            let digest = MD5.digest(value.utf8)
            var tail: UInt64 = 0
            for byte in digest[8..<16] { tail = tail << 8 | UInt64(byte) }
            current.set(targetLabel, String(tail % modulus))
        case .labelmap:
            for label in current.snapshot() {
                if let name = regex.expand(replacement, matching: label.name) {
                    current.set(name, label.value)
                }
            }
        case .labeldrop:
            current.removeAll { regex.matches($0.name) }
        case .labelkeep:
            current.removeAll { !regex.matches($0.name) }
        }
        return true
    }
}

/// The label set being relabelled: unsorted until the end, an empty value deletes.
private struct RelabelScratch {
    private var pending: [Label]

    init(_ labels: Labels) {
        pending = labels.labels
    }

    subscript(name: String) -> String {
        pending.first { $0.name == name }?.value ?? ""
    }

    mutating func set(_ name: String, _ value: String) {
        if let index = pending.firstIndex(where: { $0.name == name }) {
            if value.isEmpty { pending.remove(at: index) } else { pending[index].value = value }
        } else if !value.isEmpty {
            pending.append(Label(name: name, value: value))
        }
    }

    mutating func removeAll(where predicate: (Label) -> Bool) {
        pending.removeAll(where: predicate)
    }

    func snapshot() -> [Label] { pending }

    func labels() -> Labels { Labels(sorting: pending) }
}
