#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
/// One label: a name/value pair of a series.
package struct Label: Hashable, Sendable, Comparable {
    /// The label name, e.g. `__name__` or `job`.
    package var name: String
    /// The label value; never empty inside a stored ``Labels``.
    package var value: String

    /// Creates a label.
    package init(name: String, value: String) {
        self.name = name
        self.value = value
    }

    package static func < (lhs: Label, rhs: Label) -> Bool {
        lhs.name == rhs.name ? lhs.value.utf8.lexicographicallyPrecedes(rhs.value.utf8) : lhs.name.utf8.lexicographicallyPrecedes(rhs.name.utf8)
    }
}

/// A series' identity: a set of labels sorted by name (byte order), with unique names and no
/// empty values, as Prometheus' `labels.Labels`.
///
/// Immutable value type; build one with ``LabelsBuilder`` or ``init(sorting:)``.
package struct Labels: Hashable, Sendable, RandomAccessCollection, Comparable, CustomStringConvertible {
    /// The labels, sorted by name.
    package private(set) var labels: [Label]

    /// The empty label set.
    package static let empty = Labels(sortedUnchecked: [])

    /// Wraps labels that the caller guarantees to be sorted by name, unique and non-empty.
    package init(sortedUnchecked labels: [Label]) {
        self.labels = labels
    }

    /// Sorts the given labels by name and drops empty values. Duplicate names are kept: use
    /// ``duplicateName`` to reject them.
    package init(sorting labels: [Label]) {
        var sorted = labels.filter { !$0.value.isEmpty }
        sorted.sort { $0.name.utf8.lexicographicallyPrecedes($1.name.utf8) }
        self.labels = sorted
    }

    /// Convenience for tests and literals: `Labels(["__name__": "up", "job": "a"])`.
    package init(_ dictionary: [String: String]) {
        self.init(sorting: dictionary.map { Label(name: $0.key, value: $0.value) })
    }

    package var startIndex: Int { labels.startIndex }
    package var endIndex: Int { labels.endIndex }
    package subscript(position: Int) -> Label { labels[position] }

    /// The value of the label `name`, or nil. O(log n).
    package subscript(name: String) -> String? {
        var low = 0
        var high = labels.count
        while low < high {
            let mid = (low + high) / 2
            let candidate = labels[mid].name
            if candidate == name { return labels[mid].value }
            if candidate.utf8.lexicographicallyPrecedes(name.utf8) { low = mid + 1 } else { high = mid }
        }
        return nil
    }

    /// The metric name (`__name__`), or nil.
    package var metricName: String? { self[Labels.metricNameLabel] }

    /// The reserved label holding the metric name.
    package static let metricNameLabel = "__name__"

    /// The first label name that occurs twice (labels are sorted, so duplicates are adjacent).
    package var duplicateName: String? {
        var index = 1
        while index < labels.count {
            if labels[index].name == labels[index - 1].name { return labels[index].name }
            index += 1
        }
        return nil
    }

    /// Compares label sets as Prometheus' `labels.Compare`: pairwise by name then value.
    package static func < (lhs: Labels, rhs: Labels) -> Bool {
        let count = Swift.min(lhs.labels.count, rhs.labels.count)
        for index in 0..<count {
            let l = lhs.labels[index]
            let r = rhs.labels[index]
            let byName = compareBytes(l.name, r.name)
            if byName != 0 { return byName < 0 }
            let byValue = compareBytes(l.value, r.value)
            if byValue != 0 { return byValue < 0 }
        }
        return lhs.labels.count < rhs.labels.count
    }

    /// Bytes whose byte-wise order is the order of ``<(_:_:)``: every name and value with
    /// 0x00 escaped as 0x00 0x01 and ended by 0x00 0x00. Sorting many label sets by these keys
    /// (memcmp) is much cheaper than comparing them label by label.
    package var sortKey: [UInt8] {
        var key: [UInt8] = []
        key.reserveCapacity(labels.reduce(0) { $0 + $1.name.utf8.count + $1.value.utf8.count + 4 })
        appendSortKey(to: &key)
        return key
    }

    /// Appends ``sortKey`` to `key` (many keys in one buffer sort without an array each).
    package func appendSortKey(to key: inout [UInt8]) {
        func append(_ part: String) {
            if let done = part.utf8.withContiguousStorageIfAvailable({ bytes -> Bool in
                guard bytes.contains(0) else {
                    key.append(contentsOf: bytes)
                    return true
                }
                return false
            }), done {
                key.append(0)
                key.append(0)
                return
            }
            var part = part
            part.withUTF8 { bytes in
                if let base = bytes.baseAddress, memchr(base, 0, bytes.count) != nil {
                    for byte in bytes {
                        key.append(byte)
                        if byte == 0 { key.append(1) }
                    }
                } else {
                    key.append(contentsOf: bytes)
                }
            }
            key.append(0)
            key.append(0)
        }
        for label in labels {
            append(label.name)
            append(label.value)
        }
    }

    /// The positions of `labelSets` in label order (stable), compared through their sort
    /// keys laid out in one buffer.
    package static func sortedOrder(_ labelSets: some Collection<Labels>) -> [Int] {
        var keys: [UInt8] = []
        keys.reserveCapacity(labelSets.count * 128)
        var bounds: [Int] = [0]
        bounds.reserveCapacity(labelSets.count + 1)
        for labels in labelSets {
            labels.appendSortKey(to: &keys)
            bounds.append(keys.count)
        }
        return keys.withUnsafeBufferPointer { buffer in
            bounds.withUnsafeBufferPointer { bounds in
                let base = buffer.baseAddress
                return (0..<(bounds.count - 1)).sorted { a, b in
                    let (startA, lengthA) = (bounds[a], bounds[a + 1] - bounds[a])
                    let (startB, lengthB) = (bounds[b], bounds[b + 1] - bounds[b])
                    let common = Swift.min(lengthA, lengthB)
                    if common > 0, let base {
                        let result = memcmp(base + startA, base + startB, common)
                        if result != 0 { return result < 0 }
                    }
                    return lengthA < lengthB
                }
            }
        }
    }

    /// Whether `a` sorts before `b` (byte-wise, shorter first on a common prefix).
    package static func sortKeyPrecedes(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        a.withUnsafeBufferPointer { pa in
            b.withUnsafeBufferPointer { pb in
                let common = Swift.min(pa.count, pb.count)
                if common > 0, let baseA = pa.baseAddress, let baseB = pb.baseAddress {
                    let result = memcmp(baseA, baseB, common)
                    if result != 0 { return result < 0 }
                }
                return pa.count < pb.count
            }
        }
    }

    /// Byte-wise (Go string) comparison: negative, zero or positive. Uses memcmp on the
    /// strings' contiguous UTF-8 where available.
    @inline(__always)
    static func compareBytes(_ a: String, _ b: String) -> Int {
        var a = a
        var b = b
        return a.withUTF8 { pa in
            b.withUTF8 { pb in
                let common = Swift.min(pa.count, pb.count)
                if common > 0, let baseA = pa.baseAddress, let baseB = pb.baseAddress {
                    let result = memcmp(baseA, baseB, common)
                    if result != 0 { return Int(result) }
                }
                return pa.count - pb.count
            }
        }
    }

    /// Prometheus' text form: `name{a="b", c="d"}`.
    package var description: String {
        var out = ""
        var parts: [String] = []
        for label in labels {
            if label.name == Labels.metricNameLabel {
                out = label.value
            } else {
                parts.append("\(label.name)=\(quoted(label.value))")
            }
        }
        return out + "{" + parts.joined(separator: ", ") + "}"
    }

    /// Prometheus' `Labels.String()`: every label in braces, the name included,
    /// `{__name__="up", job="a"}`; names that are not legacy-valid are quoted.
    package var braced: String {
        let parts = labels.map { label in
            (NameValidationScheme.legacy.isValidLabelName(label.name) ? label.name : quoted(label.name)) + "=" + quoted(label.value)
        }
        return "{" + parts.joined(separator: ", ") + "}"
    }

    /// A stable 64-bit hash of the label set (FNV-1a over names and values with separators),
    /// the same on every run, for sharding and WAL-independent identity.
    package var stableHash: UInt64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for label in labels {
            for byte in label.name.utf8 { hash = (hash ^ UInt64(byte)) &* 0x100_0000_01b3 }
            hash = (hash ^ 0xff) &* 0x100_0000_01b3
            for byte in label.value.utf8 { hash = (hash ^ UInt64(byte)) &* 0x100_0000_01b3 }
            hash = (hash ^ 0xfe) &* 0x100_0000_01b3
        }
        return hash
    }
}

private func quoted(_ value: String) -> String {
    var out = "\""
    for char in value.unicodeScalars {
        switch char {
        case "\"": out += "\\\""
        case "\\": out += "\\\\"
        case "\n": out += "\\n"
        default: out.unicodeScalars.append(char)
        }
    }
    return out + "\""
}

/// Builds a ``Labels`` incrementally: set, delete, then `labels()` sorts once.
package struct LabelsBuilder: Sendable {
    private var pending: [Label]

    /// Starts from a base label set.
    package init(_ base: Labels = .empty) {
        pending = base.labels
    }

    /// Sets `name` to `value`; an empty value deletes the label.
    package mutating func set(_ name: String, _ value: String) {
        if let index = pending.firstIndex(where: { $0.name == name }) {
            if value.isEmpty { pending.remove(at: index) } else { pending[index].value = value }
        } else if !value.isEmpty {
            pending.append(Label(name: name, value: value))
        }
    }

    /// Removes the labels with these names.
    package mutating func delete(_ names: String...) {
        pending.removeAll { names.contains($0.name) }
    }

    /// The sorted label set.
    package func labels() -> Labels {
        Labels(sorting: pending)
    }
}
