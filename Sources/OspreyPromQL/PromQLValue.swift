package import OspreyModel

/// One element of an instant vector.
package struct VectorElement: Hashable, Sendable {
    /// The series' labels (the metric name is dropped by most operations).
    package var labels: Labels
    /// Evaluation timestamp (ms).
    package var timestampMs: Int64
    /// The value.
    package var value: Double
    /// Whether `__name__` (with `__type__`/`__unit__`) is to be removed at the end of the
    /// evaluation (Prometheus 3's delayed name removal).
    package var dropsName: Bool

    /// Creates an element.
    package init(labels: Labels, timestampMs: Int64, value: Double, dropsName: Bool = false) {
        self.labels = labels
        self.timestampMs = timestampMs
        self.value = value
        self.dropsName = dropsName
    }
}

/// One series of a range vector or range-query result.
package struct SeriesPoints: Hashable, Sendable {
    /// The labels.
    package var labels: Labels
    /// Float points in time order.
    package var points: [Sample]

    /// Creates a series.
    package init(labels: Labels, points: [Sample]) {
        self.labels = labels
        self.points = points
    }
}

/// A PromQL result value.
package enum PromQLValue: Hashable, Sendable {
    case scalar(timestampMs: Int64, value: Double)
    case string(timestampMs: Int64, value: String)
    case vector([VectorElement])
    case matrix([SeriesPoints])
}

/// An evaluation error, in Prometheus' error types.
package struct PromQLError: Error, Hashable, CustomStringConvertible, Sendable {
    /// The kind of failure.
    package enum Code: Hashable, Sendable {
        /// The query is valid but cannot be computed (Prometheus' `execution`).
        case execution
        /// Not supported by this version of the evaluator.
        case unsupported
        /// Storage failed.
        case storage
        /// The query ran out of time (Prometheus' `timeout`).
        case timeout
        /// The query was canceled (Prometheus' `canceled`).
        case canceled
    }

    /// The kind.
    package var code: Code
    /// The message, without position, as Prometheus words it.
    package var message: String

    /// Creates an error.
    package init(code: Code, message: String) {
        self.code = code
        self.message = message
    }

    package var description: String { message }
}
