import Foundation
package import OspreyModel

/// The grouping key of a Pushgateway push: `job` and further labels from the URL path
/// `/metrics/job/<job>{/<label>/<value>}`. A name suffixed `@base64` carries its value in
/// URL-safe base64 (padding optional; `=` alone is the empty value), so values may hold `/`.
package enum PushgatewayGroupingKey {
    /// The grouping labels of `path` (the part after `/metrics/`, percent-decoded per
    /// segment); labels with empty values are left out, as Prometheus drops them.
    package static func parse(segments: [String]) throws(IngestError) -> Labels {
        guard segments.count >= 2, let first = segments.first, first == "job" || first == "job@base64" else {
            throw IngestError(code: .badRequest, message: "the path must be /metrics/job/<job>{/<label>/<value>}")
        }
        guard segments.count % 2 == 0 else {
            throw IngestError(code: .badRequest, message: "odd number of components in label string \"\(segments.dropFirst(2).joined(separator: "/"))\"")
        }
        var labels: [Label] = []
        var seen: Set<String> = []
        var index = 0
        while index < segments.count {
            var name = segments[index]
            var value = segments[index + 1]
            if name.hasSuffix("@base64") {
                name.removeLast("@base64".count)
                guard let decoded = decodeBase64URL(value) else {
                    throw IngestError(code: .badRequest, message: "invalid base64 encoding in label value \"\(value)\" for label \"\(name)\"")
                }
                value = decoded
            }
            guard NameValidationScheme.legacy.isValidLabelName(name), !name.hasPrefix("__") else {
                throw IngestError(code: .badRequest, message: "improper label name \"\(name)\"")
            }
            guard seen.insert(name).inserted else {
                throw IngestError(code: .badRequest, message: "duplicate label name \"\(name)\"")
            }
            if name == "job" && value.isEmpty {
                throw IngestError(code: .badRequest, message: "job name is required")
            }
            if !value.isEmpty { labels.append(Label(name: name, value: value)) }
            index += 2
        }
        return Labels(sorting: labels)
    }

    /// URL-safe (or standard) base64 with optional padding.
    static func decodeBase64URL(_ text: String) -> String? {
        var body = text.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        while body.hasSuffix("=") { body.removeLast() }
        if body.isEmpty { return "" }
        body += String(repeating: "=", count: (4 - body.count % 4) % 4)
        guard let data = Data(base64Encoded: body), let string = String(data: data, encoding: .utf8) else { return nil }
        return string
    }
}
