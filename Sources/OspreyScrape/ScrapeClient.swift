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

/// The `Accept` header Prometheus sends: OpenMetrics first, then the text format.
package let scrapeAcceptHeader = "application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1"
