package import OspreyStorage
import Synchronization

/// Turns OTLP `ExportMetricsServiceRequest` bodies into Prometheus series, as Prometheus 3's
/// OTLP receiver does (see docs/otlp.md for the rules). Shared by the HTTP and gRPC receivers:
/// it remembers which series it stored (so a known series is appended by reference, without
/// building its labels again) and the running totals of delta streams.
package final class OTLPMetricsIngester: Sendable {
    /// Translation options.
    package let options: OTLPOptions
    /// Request limits.
    package let limits: OTLPLimits
    let namer: OTLPNamer
    /// Point identity → series reference, for series already stored.
    let cache: SeriesRefCache
    /// Delta streams' running totals.
    package let deltas: OTLPDeltaStore

    /// An ingester with these options.
    package init(options: OTLPOptions = OTLPOptions(), limits: OTLPLimits = OTLPLimits(), deltas: OTLPDeltaStore = OTLPDeltaStore()) {
        self.options = options
        self.limits = limits
        self.namer = OTLPNamer(strategy: options.translationStrategy)
        self.cache = SeriesRefCache()
        self.deltas = deltas
    }

    /// Translates, appends and commits a protobuf-encoded `ExportMetricsServiceRequest`.
    ///
    /// Throws ``IngestError`` when the body is malformed (nothing is stored) and `StorageError`
    /// when the engine fails (nothing is stored). Invalid data points are skipped and counted in
    /// the result; everything else is durable when this returns.
    package func ingest(_ body: [UInt8], into appender: any MetricAppender, nowNs: UInt64) async throws -> OTLPMetricsResult {
        var translation = OTLPMetricsTranslation(ingester: self, appender: appender, nowNs: nowNs)
        let outcome = body.withUnsafeBytes { bytes in
            Result { try translation.translate(bytes) }
        }
        do {
            try outcome.get()
            _ = try await appender.commit()
        } catch {
            appender.rollback()
            // Nothing of the request is stored: take its delta updates back, newest first.
            for update in translation.deltaUpdates.reversed() { deltas.undo(update.key, to: update.previous, ifStill: update.new) }
            throw error
        }
        for (key, ref) in translation.learned { cache.insert(key, ref) }
        return translation.result
    }
}
