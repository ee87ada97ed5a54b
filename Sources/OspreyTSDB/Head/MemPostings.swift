package import OspreyModel
import Synchronization

/// The head's inverted index: for every label pair, the sorted references of the series that
/// carry it. Also interns label strings, so each distinct name and value is stored once.
///
/// Thread-safe: one mutex guards the index; series creation is rare next to sample appends.
package final class MemPostings: Sendable {
    private struct State {
        var index: [String: [String: [UInt64]]] = [:]
        var all: [UInt64] = []
        /// Per metric name, bumped whenever the set of series with that name changes.
        var nameGenerations: [String: UInt64] = [:]
    }

    private let state = Mutex(State())

    /// Creates an empty index.
    package init() {}

    /// Returns `labels` with strings shared with the index, so each distinct name and value is
    /// stored once however many series use it.
    package func intern(_ labels: Labels) -> Labels {
        state.withLock { state in
            var interned: [Label] = []
            interned.reserveCapacity(labels.count)
            for label in labels {
                var name = label.name
                if let index = state.index.index(forKey: name) { name = state.index[index].key } else { state.index[name] = [:] }
                var value = label.value
                state.index[name, default: [:]].withValues(for: &value) { _ in }
                interned.append(Label(name: name, value: value))
            }
            return Labels(sortedUnchecked: interned)
        }
    }

    /// Indexes a series under each of its label pairs.
    package func add(ref: UInt64, labels: Labels) {
        state.withLock { state in
            for label in labels {
                state.index[label.name, default: [:]][label.value, default: []].insertSortedRef(ref)
            }
            if let name = labels.metricName { state.nameGenerations[name, default: 0] += 1 }
            insertSorted(ref, into: &state.all)
        }
    }

    /// Removes a series from the index (its label pairs left without series disappear).
    package func remove(ref: UInt64, labels: Labels) {
        state.withLock { state in
            for label in labels {
                guard var values = state.index[label.name], var list = values[label.value] else { continue }
                removeSorted(ref, from: &list)
                if list.isEmpty { values[label.value] = nil } else { values[label.value] = list }
                state.index[label.name] = values
            }
            if let name = labels.metricName { state.nameGenerations[name, default: 0] += 1 }
            removeSorted(ref, from: &state.all)
        }
    }

    /// The series named `name` and the generation of that set (which changes with it).
    package func series(named name: String) -> (refs: [UInt64], generation: UInt64) {
        state.withLock { state in
            (state.index[Labels.metricNameLabel]?[name] ?? [], state.nameGenerations[name] ?? 0)
        }
    }

    /// The generation of the set of series named `name`.
    package func generation(ofName name: String) -> UInt64 {
        state.withLock { $0.nameGenerations[name] ?? 0 }
    }

    /// Sorted references of the series matching all `matchers` (all series when empty), with
    /// Prometheus semantics: a matcher that matches "" also selects series without the label.
    package func postings(matching matchers: [LabelMatcher]) -> [UInt64] {
        state.withLock { state in
            var positive: [[UInt64]] = []
            var negative: [[UInt64]] = []
            for matcher in matchers {
                let values = state.index[matcher.name] ?? [:]
                if matcher.matchesEmpty {
                    // Series without the label match; subtract those whose value does not match.
                    negative.append(unionOf(values) { !matcher.matches($0) })
                } else {
                    positive.append(union(values, matcher: matcher))
                }
            }
            var result = positive.isEmpty ? state.all : positive.sorted { $0.count < $1.count }.reduce(nil as [UInt64]?) { acc, list in
                acc.map { intersect($0, list) } ?? list
            } ?? []
            for list in negative where !list.isEmpty && !result.isEmpty {
                result = subtract(result, list)
            }
            return result
        }
    }

    /// All values of label `name`, sorted.
    package func labelValues(_ name: String) -> [String] {
        state.withLock { state in
            (state.index[name] ?? [:]).compactMap { $0.value.isEmpty ? nil : $0.key }
        }.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
    }

    /// All label names, sorted.
    package func labelNames() -> [String] {
        state.withLock { Array($0.index.keys) }.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
    }

    /// Number of distinct label pairs and, per name, the number of values.
    package func cardinality() -> (pairs: Int, valuesPerName: [String: Int], seriesPerPair: [(String, String, Int)]) {
        state.withLock { state in
            var pairs = 0
            var perName: [String: Int] = [:]
            var perPair: [(String, String, Int)] = []
            for (name, values) in state.index {
                perName[name] = values.count
                pairs += values.count
                for (value, refs) in values { perPair.append((name, value, refs.count)) }
            }
            return (pairs, perName, perPair)
        }
    }

    private func union(_ values: [String: [UInt64]], matcher: LabelMatcher) -> [UInt64] {
        if matcher.type == .equal { return values[matcher.value] ?? [] }
        if let set = matcher.setMatches {
            return mergeAll(set.compactMap { values[$0] })
        }
        return unionOf(values) { matcher.matches($0) }
    }

    private func unionOf(_ values: [String: [UInt64]], where predicate: (String) -> Bool) -> [UInt64] {
        mergeAll(values.compactMap { predicate($0.key) ? $0.value : nil })
    }
}

extension Dictionary where Key == String, Value == [UInt64] {
    /// Runs `body` on the postings of `key` (created if missing) and replaces `key` with the
    /// stored, interned key string.
    fileprivate mutating func withValues(for key: inout String, _ body: (inout [UInt64]) -> Void) {
        if let index = self.index(forKey: key) {
            key = self[index].key
            body(&self.values[index])
        } else {
            var list: [UInt64] = []
            body(&list)
            self[key] = list
        }
    }
}

extension Array where Element == UInt64 {
    fileprivate mutating func insertSortedRef(_ ref: UInt64) { insertSorted(ref, into: &self) }
}

private func removeSorted(_ ref: UInt64, from list: inout [UInt64]) {
    var low = 0
    var high = list.count
    while low < high {
        let mid = (low + high) / 2
        if list[mid] < ref { low = mid + 1 } else { high = mid }
    }
    if low < list.count && list[low] == ref { list.remove(at: low) }
}

private func insertSorted(_ ref: UInt64, into list: inout [UInt64]) {
    if let last = list.last, last >= ref {
        var low = 0
        var high = list.count
        while low < high {
            let mid = (low + high) / 2
            if list[mid] < ref { low = mid + 1 } else { high = mid }
        }
        if low < list.count && list[low] == ref { return }
        list.insert(ref, at: low)
    } else {
        list.append(ref)
    }
}

/// Intersection of two sorted lists.
func intersect(_ a: [UInt64], _ b: [UInt64]) -> [UInt64] {
    var out: [UInt64] = []
    out.reserveCapacity(min(a.count, b.count))
    var i = 0
    var j = 0
    while i < a.count && j < b.count {
        if a[i] == b[j] {
            out.append(a[i])
            i += 1
            j += 1
        } else if a[i] < b[j] {
            i += 1
        } else {
            j += 1
        }
    }
    return out
}

/// Elements of sorted `a` that are not in sorted `b`.
func subtract(_ a: [UInt64], _ b: [UInt64]) -> [UInt64] {
    var out: [UInt64] = []
    out.reserveCapacity(a.count)
    var j = 0
    for value in a {
        while j < b.count && b[j] < value { j += 1 }
        if j < b.count && b[j] == value { continue }
        out.append(value)
    }
    return out
}

/// Sorted union of sorted lists.
func mergeAll(_ lists: [[UInt64]]) -> [UInt64] {
    if lists.isEmpty { return [] }
    if lists.count == 1 { return lists[0] }
    var out: [UInt64] = []
    out.reserveCapacity(lists.reduce(0) { $0 + $1.count })
    for list in lists { out.append(contentsOf: list) }
    out.sort()
    var unique: [UInt64] = []
    unique.reserveCapacity(out.count)
    for value in out where unique.last != value { unique.append(value) }
    return unique
}
