/// The single error type thrown by every decoder in `OspreyEncoding`.
///
/// Carries a coarse `code` for programmatic handling, a human-readable
/// `message`, and the byte `offset` in the decoder's input at which the
/// problem was detected (the start of the offending field or element).
package struct EncodingError: Error, Hashable, CustomStringConvertible, Sendable {
    /// Broad category of a decoding failure.
    package enum Code: Hashable, Sendable {
        /// The input ended before a complete field or element could be read.
        case truncated
        /// A varint (or other number) does not fit its 64-bit destination.
        case overflow
        /// The input is structurally invalid (bad tag, offset, length or count).
        case corrupt
        /// A declared size exceeds a caller-supplied or format limit.
        case tooLarge
    }

    /// Category of the failure.
    package var code: Code
    /// Human-readable explanation, without the offset (see `description`).
    package var message: String
    /// Byte offset in the decoder's input where the problem was found.
    package var offset: Int

    /// Creates an error; `offset` is a byte offset into the decoder's input.
    package init(code: Code, message: String, offset: Int) {
        self.code = code
        self.message = message
        self.offset = offset
    }

    /// Renders as `"<code>: <message> (at byte <offset>)"`.
    package var description: String {
        "\(code): \(message) (at byte \(offset))"
    }
}

extension EncodingError {
    /// Shorthand for a `.truncated` error.
    static func truncated(_ message: String, at offset: Int) -> EncodingError {
        EncodingError(code: .truncated, message: message, offset: offset)
    }

    /// Shorthand for a `.corrupt` error.
    static func corrupt(_ message: String, at offset: Int) -> EncodingError {
        EncodingError(code: .corrupt, message: message, offset: offset)
    }

    /// Shorthand for an `.overflow` error.
    static func overflow(_ message: String, at offset: Int) -> EncodingError {
        EncodingError(code: .overflow, message: message, offset: offset)
    }

    /// Shorthand for a `.tooLarge` error.
    static func tooLarge(_ message: String, at offset: Int) -> EncodingError {
        EncodingError(code: .tooLarge, message: message, offset: offset)
    }
}
