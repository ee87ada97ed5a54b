package import OspreyModel

/// The metric type of an exposition family; the model's ``MetricType`` (same cases as
/// OpenMetrics' `metric-type`; the Prometheus text format's `untyped` maps to `.unknown`).
package typealias ExpositionMetricType = MetricType

/// A syntax or structure error in an exposition, with the offending line.
///
/// Exposition parsers reject the whole payload on the first error, as OpenMetrics requires
/// ("partial or invalid expositions MUST be considered erroneous in their entirety").
package struct ExpositionParseError: Error, Hashable, CustomStringConvertible, Sendable {
    /// The 1-based line number of the offending line (one past the last line when the input
    /// ended too early).
    package var line: Int
    /// What is wrong, phrased so that the exposer can fix it.
    package var message: String
    /// The offending line without its line feed, cut to ``maxLineTextBytes`` bytes (plus `…`).
    package var lineText: String

    /// The longest line excerpt kept, in UTF-8 bytes.
    package static let maxLineTextBytes = 256

    /// Creates an error; `lineText` is truncated to ``maxLineTextBytes``.
    package init(line: Int, message: String, lineText: String) {
        self.line = line
        self.message = message
        self.lineText = lineText.utf8.count > Self.maxLineTextBytes ? Self.truncated(Array(lineText.utf8)) : lineText
    }

    /// Creates an error from the raw bytes of the line.
    init(line: Int, message: String, lineBytes: UnsafeBufferPointer<UInt8>) {
        self.line = line
        self.message = message
        self.lineText = lineBytes.count > Self.maxLineTextBytes ? Self.truncated(Array(lineBytes)) : String(decoding: lineBytes, as: UTF8.self)
    }

    private static func truncated(_ bytes: [UInt8]) -> String {
        var end = maxLineTextBytes
        // Do not cut a UTF-8 sequence in half: back up over continuation bytes.
        while end > 0 && bytes[end] & 0xC0 == 0x80 { end -= 1 }
        return String(decoding: bytes[0..<end], as: UTF8.self) + "…"
    }

    package var description: String { "line \(line): \(message): \(lineText)" }
}

/// An exemplar attached to an OpenMetrics sample (`# {trace_id="…"} 0.5 1520879607.789`):
/// the model's ``Exemplar`` (labels with empty values dropped, sorted).
package typealias ExpositionExemplar = Exemplar

/// One sample line of an exposition.
package struct ExpositionSample: Hashable, Sendable {
    /// The series: `__name__` (the full sample name, e.g. `foo_bucket`) and the line's labels,
    /// sorted; labels with empty values are dropped, as Prometheus does.
    package var labels: Labels
    /// The sample value; NaN is Prometheus' "normal NaN" (`0x7ff8000000000001`), never the
    /// staleness marker.
    package var value: Double
    /// The timestamp in milliseconds, if the line had one.
    package var timestampMs: Int64?
    /// The exemplar (OpenMetrics only).
    package var exemplar: ExpositionExemplar?
    /// The metric family the sample belongs to, e.g. `foo` for `foo_bucket`.
    package var family: String
    /// The family's type (`.unknown` without a TYPE line).
    package var type: ExpositionMetricType
    /// The sample name after the family name: `""`, `_total`, `_bucket`, `_created`, `_count`,
    /// `_sum`, `_gcount`, `_gsum` or `_info`.
    package var suffix: String

    /// Creates a sample.
    package init(
        labels: Labels, value: Double, timestampMs: Int64?, exemplar: ExpositionExemplar? = nil,
        family: String, type: ExpositionMetricType, suffix: String
    ) {
        self.labels = labels
        self.value = value
        self.timestampMs = timestampMs
        self.exemplar = exemplar
        self.family = family
        self.type = type
        self.suffix = suffix
    }
}

/// One entry of an exposition: a sample or a metadata line.
package enum ExpositionEntry: Hashable, Sendable {
    /// A sample line.
    case sample(ExpositionSample)
    /// `# TYPE family type`.
    case type(family: String, type: ExpositionMetricType)
    /// `# HELP family text`, unescaped.
    case help(family: String, text: String)
    /// `# UNIT family unit` (OpenMetrics only).
    case unit(family: String, unit: String)
}
