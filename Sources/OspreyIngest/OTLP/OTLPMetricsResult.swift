/// What one OTLP metrics request stored and what it rejected: the source of the response's
/// `partial_success` (`rejected_data_points`, `error_message`).
package struct OTLPMetricsResult: Hashable, Sendable {
    /// Data points in the request.
    package var dataPoints = 0
    /// Data points not stored (wholly or in part).
    package var rejectedDataPoints = 0
    /// Float samples stored.
    package var samplesWritten = 0
    /// Exemplars stored.
    package var exemplarsWritten = 0
    /// Why points were rejected, in order of first occurrence, at most ``maxReasons``.
    package private(set) var reasons: [String] = []
    /// How many times each reason in ``reasons`` occurred.
    package private(set) var reasonCounts: [Int] = []

    static let maxReasons = 8

    /// Creates an empty result.
    package init() {}

    /// Counts a rejected data point.
    mutating func reject(_ reason: String) {
        rejectedDataPoints += 1
        if let index = reasons.firstIndex(of: reason) {
            reasonCounts[index] += 1
        } else if reasons.count < Self.maxReasons {
            reasons.append(reason)
            reasonCounts.append(1)
        }
    }

    /// The `partial_success.error_message`: empty when nothing was rejected.
    package var errorMessage: String {
        guard rejectedDataPoints > 0 else { return "" }
        let listed = zip(reasons, reasonCounts).map { $1 > 1 ? "\($0) (\($1) data points)" : $0 }
        return "\(rejectedDataPoints) of \(dataPoints) data points rejected: " + listed.joined(separator: "; ")
    }
}
