/// A PromQL parse error with the position it was found at.
package struct PromQLParseError: Error, Hashable, CustomStringConvertible, Sendable {
    /// Byte offset of the problem in the input (0-based).
    package var position: Int
    /// What is wrong.
    package var message: String

    /// Creates an error.
    package init(position: Int, message: String) {
        self.position = position
        self.message = message
    }

    /// Prometheus' form: `1:5: parse error: unexpected …` (line 1, 1-based column).
    package var description: String { "1:\(position + 1): parse error: \(message)" }
}
