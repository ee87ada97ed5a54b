/// The storage contracts' error: a closed code, a message for the user, an optional cause.
///
/// Codes mirror Prometheus' `storage` errors so the HTTP layer can map them (out-of-order → 400).
package struct StorageError: Error, Hashable, CustomStringConvertible, Sendable {
    /// What went wrong.
    package enum Code: String, Hashable, Sendable {
        /// A sample older than the series' newest sample, outside the out-of-order window.
        case outOfOrderSample = "out of order sample"
        /// A sample older than the head's lower bound (already persisted time range).
        case outOfBounds = "out of bounds"
        /// Same timestamp as the newest sample but a different value.
        case duplicateSampleForTimestamp = "duplicate sample for timestamp"
        /// Older than the out-of-order window allows.
        case tooOldSample = "too old sample"
        /// The label set is empty, has duplicate names or invalid names.
        case invalidLabels = "invalid labels"
        /// The engine does not store this kind of value (yet).
        case unsupported = "unsupported"
        /// A series reference that the engine does not know (anymore).
        case unknownSeriesRef = "unknown series reference"
        /// A limit (series, samples, size) was hit.
        case limitExceeded = "limit exceeded"
        /// Disk or WAL trouble.
        case io = "i/o error"
        /// The engine is closed or not ready.
        case unavailable = "unavailable"
        /// The query was cancelled.
        case canceled = "canceled"
    }

    /// The kind of error.
    package var code: Code
    /// What went wrong and how to fix it.
    package var message: String
    /// The underlying error, if any (kept as text so the error stays Hashable).
    package var cause: String?

    /// Creates an error.
    package init(code: Code, message: String, cause: (any Error)? = nil) {
        self.code = code
        self.message = message
        self.cause = cause.map { String(describing: $0) }
    }

    package var description: String {
        if let cause { return "\(message): \(cause)" }
        return message
    }
}
