import OspreyModel

/// Collects the labels of one sample line, then turns them into a sorted ``Labels``.
struct ExpositionLabelScratch {
    /// The labels in line order (the sample's `__name__` first).
    private(set) var labels: [Label] = []

    mutating func reset() {
        labels.removeAll(keepingCapacity: true)
    }

    mutating func append(name: String, value: String) {
        labels.append(Label(name: name, value: value))
    }

    /// The value of the label `name` on the line, or nil.
    func value(of name: String) -> String? {
        for label in labels where label.name == name { return label.value }
        return nil
    }

    /// The combined length of names and values in Unicode code points (OpenMetrics' exemplar
    /// label-set limit).
    var codePointCount: Int {
        labels.reduce(0) { $0 + $1.name.unicodeScalars.count + $1.value.unicodeScalars.count }
    }

    /// Sorts the labels by name and drops empty values, as Prometheus does; returns the
    /// duplicated name instead when a name occurs twice.
    mutating func build() -> Result<Labels, DuplicateLabelName> {
        // Insertion sort: label sets are short and often already sorted.
        var i = 1
        while i < labels.count {
            let current = labels[i]
            var j = i - 1
            while j >= 0 && current.name.utf8.lexicographicallyPrecedes(labels[j].name.utf8) {
                labels[j + 1] = labels[j]
                j -= 1
            }
            labels[j + 1] = current
            i += 1
        }
        var sorted: [Label] = []
        sorted.reserveCapacity(labels.count)
        for (index, label) in labels.enumerated() {
            if index > 0 && labels[index - 1].name == label.name { return .failure(DuplicateLabelName(name: label.name)) }
            if !label.value.isEmpty { sorted.append(label) }
        }
        return .success(Labels(sortedUnchecked: sorted))
    }

    struct DuplicateLabelName: Error {
        var name: String
    }
}
