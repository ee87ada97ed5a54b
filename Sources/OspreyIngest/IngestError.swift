/// The ingest module's error: what is wrong with a payload, where, and how to fix it.
package struct IngestError: Error, Hashable, CustomStringConvertible, Sendable {
    /// The kind of problem.
    package enum Code: Hashable, Sendable {
        /// The payload is malformed or invalid (HTTP 400).
        case badRequest
        /// The payload is larger than allowed (HTTP 413).
        case tooLarge
        /// The payload uses something Osprey does not support (HTTP 415 or 400).
        case unsupported
    }

    /// The kind of problem.
    package var code: Code
    /// What is wrong.
    package var message: String
    /// Byte offset in the decoded payload, when known.
    package var offset: Int?

    /// Creates an error.
    package init(code: Code, message: String, offset: Int? = nil) {
        self.code = code
        self.message = message
        self.offset = offset
    }

    package var description: String {
        if let offset { return "\(message) (at byte \(offset))" }
        return message
    }
}
