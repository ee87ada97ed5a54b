/// The model module's error: a closed code, a message that says how to fix it.
package struct ModelError: Error, Hashable, CustomStringConvertible, Sendable {
    /// What kind of problem.
    package enum Code: Hashable, Sendable {
        case invalidRegex
        case invalidMetricName
        case invalidLabelName
        case invalidLabelValue
        case duplicateLabelName
        case emptyLabelSet
        case labelTooLong
    }

    /// The kind of problem.
    package var code: Code
    /// What went wrong, for a user.
    package var message: String

    /// Creates an error.
    package init(code: Code, message: String) {
        self.code = code
        self.message = message
    }

    package var description: String { message }
}
