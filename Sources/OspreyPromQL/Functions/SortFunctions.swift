import OspreyModel

/// `sort_by_label` and `sort_by_label_desc`: by the named labels in natural order, then by the
/// whole label set.
enum SortByLabel {
    static func sort(_ elements: [VectorElement], by names: [String], descending: Bool) -> [VectorElement] {
        elements.sorted { a, b in
            for name in names {
                let left = a.labels[name] ?? ""
                let right = b.labels[name] ?? ""
                if left == right { continue }
                return naturalLess(left, right) != descending
            }
            return descending ? b.labels < a.labels : a.labels < b.labels
        }
    }

    /// The natural order of `facette.io/natsort` that Prometheus uses: the strings are cut into
    /// runs of digits and of non-digits; runs that are both numbers compare as integers, others
    /// as strings.
    static func naturalLess(_ a: String, _ b: String) -> Bool {
        let chunksA = chunks(a)
        let chunksB = chunks(b)
        for (i, chunkA) in chunksA.enumerated() {
            if i >= chunksB.count { return false }
            let chunkB = chunksB[i]
            if let numberA = Int(chunkA), let numberB = Int(chunkB) {
                if numberA == numberB {
                    if i == chunksA.count - 1 { return true }
                    if i == chunksB.count - 1 { return false }
                    continue
                }
                return numberA < numberB
            }
            if chunkA == chunkB {
                if i == chunksA.count - 1 { return true }
                if i == chunksB.count - 1 { return false }
                continue
            }
            return chunkA < chunkB
        }
        return false
    }

    private static func chunks(_ text: String) -> [String] {
        var out: [String] = []
        var current = ""
        var currentIsDigit = false
        for character in text {
            let isDigit = character.isASCII && character.isNumber
            if !current.isEmpty && isDigit != currentIsDigit {
                out.append(current)
                current = ""
            }
            currentIsDigit = isDigit
            current.append(character)
        }
        if !current.isEmpty { out.append(current) }
        return out
    }
}
