/// An error of the Prometheus HTTP API, in the API's own error types.
package struct APIError: Error, Hashable, CustomStringConvertible, Sendable {
    /// Prometheus' `errorType` values.
    package enum Code: String, Hashable, Sendable {
        case badData = "bad_data"
        case execution = "execution"
        case canceled = "canceled"
        case timeout = "timeout"
        case `internal` = "internal"
        case notFound = "not_found"
        case notAcceptable = "not_acceptable"
        case unavailable = "unavailable"
        case tooLarge = "too_large"
        case unsupportedMediaType = "unsupported_media_type"
    }

    /// The error type.
    package var code: Code
    /// The message shown in the `error` field.
    package var message: String

    /// Creates an error.
    package init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    package var description: String { "\(code.rawValue): \(message)" }
}
