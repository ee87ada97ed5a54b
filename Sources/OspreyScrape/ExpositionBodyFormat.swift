import Foundation

/// How a scraped body is parsed, chosen by its `Content-Type` as Prometheus chooses it:
/// `application/openmetrics-text` is OpenMetrics (strict, `# EOF` required); anything else
/// is the Prometheus text format 0.0.4.
enum ExpositionBodyFormat {
    static func isOpenMetrics(_ contentType: String) -> Bool {
        let mediaType = contentType.split(separator: ";", maxSplits: 1).first.map { $0.trimmingCharacters(in: .whitespaces).lowercased() } ?? ""
        return mediaType == "application/openmetrics-text"
    }
}
