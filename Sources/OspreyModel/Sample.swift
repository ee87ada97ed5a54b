/// A float sample: Prometheus millisecond timestamp and a bit-exact float64 value.
package struct Sample: Hashable, Sendable {
    /// Milliseconds since the Unix epoch.
    package var timestampMs: Int64
    /// The value; NaN payloads (including the staleness marker) are preserved bit for bit.
    package var value: Double

    /// Creates a sample.
    package init(timestampMs: Int64, value: Double) {
        self.timestampMs = timestampMs
        self.value = value
    }

    /// Compares values bit for bit, so NaN == NaN when the payloads match.
    package static func == (lhs: Sample, rhs: Sample) -> Bool {
        lhs.timestampMs == rhs.timestampMs && lhs.value.bitPattern == rhs.value.bitPattern
    }

    package func hash(into hasher: inout Hasher) {
        hasher.combine(timestampMs)
        hasher.combine(value.bitPattern)
    }

    /// Two time-sorted sample lists merged by time; a timestamp in both is kept once, from
    /// `first`.
    package static func mergedByTime(_ first: [Sample], _ second: [Sample]) -> [Sample] {
        if first.isEmpty { return second }
        if second.isEmpty { return first }
        var merged: [Sample] = []
        merged.reserveCapacity(first.count + second.count)
        var i = 0
        var j = 0
        while i < first.count || j < second.count {
            if j >= second.count || (i < first.count && first[i].timestampMs <= second[j].timestampMs) {
                if j < second.count && first[i].timestampMs == second[j].timestampMs { j += 1 }
                merged.append(first[i])
                i += 1
            } else {
                merged.append(second[j])
                j += 1
            }
        }
        return merged
    }
}

/// Prometheus' staleness marker, a NaN with a reserved payload.
package enum StaleMarker {
    /// The bit pattern `0x7ff0000000000002`.
    package static let bitPattern: UInt64 = 0x7ff0_0000_0000_0002
    /// The marker as a Double.
    package static let value = Double(bitPattern: bitPattern)

    /// Whether `value` is exactly the staleness marker.
    package static func isStale(_ value: Double) -> Bool {
        value.bitPattern == bitPattern
    }
}

/// An exemplar attached to a sample (OpenMetrics), e.g. a trace ID.
package struct Exemplar: Hashable, Sendable {
    /// Exemplar labels such as `trace_id`.
    package var labels: Labels
    /// The exemplar's value.
    package var value: Double
    /// Milliseconds since the epoch, if the producer set one.
    package var timestampMs: Int64?

    /// Creates an exemplar.
    package init(labels: Labels, value: Double, timestampMs: Int64?) {
        self.labels = labels
        self.value = value
        self.timestampMs = timestampMs
    }
}

/// The metric type, as in Prometheus metadata.
package enum MetricType: String, Hashable, Sendable, CaseIterable {
    case counter, gauge, histogram, gaugehistogram, summary, info, stateset, unknown
}

/// Metadata of a metric family: type, unit and help.
package struct MetricMetadata: Hashable, Sendable {
    /// The metric type.
    package var type: MetricType
    /// The unit, e.g. `seconds`; empty when unknown.
    package var unit: String
    /// The help text.
    package var help: String

    /// Creates metadata.
    package init(type: MetricType, unit: String = "", help: String = "") {
        self.type = type
        self.unit = unit
        self.help = help
    }
}
