/// A PromQL parse error with the position it was found at.
package struct PromQLParseError: Error, Hashable, CustomStringConvertible, Sendable {
    /// Byte offset of the problem in the input (0-based).
    package var position: Int
    /// What is wrong.
    package var message: String
    /// The query, when known, for line numbers in multi-line queries.
    package var query: String?

    /// Creates an error.
    package init(position: Int, message: String) {
        self.position = position
        self.message = message
    }

    /// Prometheus' form: `1:5: parse error: unexpected …` (1-based line; the column counts bytes
    /// after the last line break before the position).
    package var description: String {
        var line = 1
        var lastBreak = -1
        if let query {
            for (index, byte) in query.utf8.prefix(position).enumerated() where byte == UInt8(ascii: "\n") {
                line += 1
                lastBreak = index
            }
        }
        return "\(line):\(position - lastBreak): parse error: \(message)"
    }
}
