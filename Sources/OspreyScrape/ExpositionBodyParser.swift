import Foundation
import OspreyIngest

/// The parser for a scraped body, chosen by its `Content-Type` as Prometheus chooses it:
/// `application/openmetrics-text` is OpenMetrics (strict, `# EOF` required); anything else
/// is the Prometheus text format 0.0.4.
struct ExpositionBodyParser {
    // One of the two is set; kept apart (not in an enum payload) so parsing mutates in place.
    private var openMetrics: OpenMetricsParser?
    private var text: PrometheusTextParser?

    init(_ body: [UInt8], contentType: String) {
        if Self.isOpenMetrics(contentType) {
            openMetrics = OpenMetricsParser(body, isComplete: true)
        } else {
            text = PrometheusTextParser(body, isComplete: true)
        }
    }

    static func isOpenMetrics(_ contentType: String) -> Bool {
        let mediaType = contentType.split(separator: ";", maxSplits: 1).first.map { $0.trimmingCharacters(in: .whitespaces).lowercased() } ?? ""
        return mediaType == "application/openmetrics-text"
    }

    mutating func next() throws(ExpositionParseError) -> ExpositionEntry? {
        if openMetrics != nil { return try openMetrics?.next() }
        return try text?.next()
    }
}
