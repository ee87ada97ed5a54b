/// A scraped response: its `Content-Type` and body (decompressed).
package struct ScrapeResponse: Sendable {
    package var contentType: String
    package var body: [UInt8]
    package init(contentType: String, body: [UInt8]) {
        self.contentType = contentType
        self.body = body
    }
}

/// Why a scrape got no body; `message` is what the targets API shows as `lastError`.
package struct ScrapeFetchError: Error, Hashable, Sendable, CustomStringConvertible {
    package var message: String
    package init(_ message: String) {
        self.message = message
    }
    package var description: String { message }
}

/// Fetches targets' metrics: HTTP in the server, a fake in tests.
package protocol ScrapeClient: Sendable {
    /// GETs `url` within `timeoutMs`; a body over `bodySizeLimitBytes` (0 = none) after
    /// decompression fails.
    func fetch(url: String, timeoutMs: Int64, bodySizeLimitBytes: Int64) async throws(ScrapeFetchError) -> ScrapeResponse
    /// Releases connections; the client is not used afterwards.
    func shutdown() async
}

/// The `Accept` header Prometheus 2.42 sends: OpenMetrics first, then the text format.
package let scrapeAcceptHeader = "application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1"

/// A `scrape_protocols` entry: an exposition format the scrape asks for.
package enum ScrapeProtocol: String, CaseIterable, Hashable, Sendable {
    case openMetricsText1 = "OpenMetricsText1.0.0"
    case openMetricsText0 = "OpenMetricsText0.0.1"
    case prometheusText1 = "PrometheusText1.0.0"
    case prometheusText0 = "PrometheusText0.0.4"
    case prometheusProto = "PrometheusProto"

    /// The media type asked for, as Prometheus' `ScrapeProtocolsHeaders`; nil for the protobuf
    /// format, which Osprey does not parse (it is left out of the `Accept` header, so that a
    /// target answers in a text format).
    var mediaType: String? {
        switch self {
        case .openMetricsText1: return "application/openmetrics-text;version=1.0.0"
        case .openMetricsText0: return "application/openmetrics-text;version=0.0.1"
        case .prometheusText1: return "text/plain;version=1.0.0;escaping=underscores"
        case .prometheusText0: return "text/plain;version=0.0.4"
        case .prometheusProto: return nil
        }
    }

    /// The `Accept` header for `protocols` in order of preference, weighted as Prometheus
    /// weighs them (`q=0.6` for the first, then down by 0.1, `*/*` last); without protocols,
    /// Prometheus 2.42's header.
    package static func acceptHeader(_ protocols: [ScrapeProtocol]) -> String {
        guard !protocols.isEmpty else { return scrapeAcceptHeader }
        var values: [String] = []
        var weight = allCases.count + 1
        for item in protocols {
            guard let mediaType = item.mediaType else { continue }
            values.append("\(mediaType);q=0.\(weight)")
            weight -= 1
        }
        values.append("*/*;q=0.\(weight)")
        return values.joined(separator: ",")
    }
}
