/// Deduplicates strings decoded from the WAL, so replaying millions of series records keeps one
/// copy of each label name and value (`__name__`, `job`, `instance` values, …).
///
/// Not thread-safe: use one interner per replaying thread, or guard it with a lock. The interner
/// keeps every string it has seen until it is released; drop it when replay ends.
package final class StringInterner {
    private var strings: Set<String> = []

    /// Creates an empty interner.
    package init() {}

    /// Number of distinct strings held.
    package var count: Int { strings.count }

    /// The shared copy of the UTF-8 string in `bytes`. O(length) plus one hash lookup; allocates
    /// only for a string not seen before. Invalid UTF-8 is repaired with U+FFFD (as Swift's
    /// `String(decoding:as:)`), so such strings do not round-trip byte for byte.
    package func intern(_ bytes: UnsafeRawBufferPointer) -> String {
        let candidate = String(decoding: bytes, as: UTF8.self)
        return intern(candidate)
    }

    /// The shared copy of `string`.
    package func intern(_ string: String) -> String {
        if let existing = strings.firstIndex(of: string) {
            return strings[existing]
        }
        strings.insert(string)
        return string
    }
}
