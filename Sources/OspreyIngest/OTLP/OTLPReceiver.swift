import Foundation
package import OspreyStorage
import Synchronization

/// What the OTLP receivers (gRPC and HTTP) share: where metrics go, the translation state,
/// the message size bound and admission control. Transports decode their framing and
/// compression, then hand the protobuf message here and map the outcome to their statuses.
package final class OTLPReceiver: Sendable {
    /// Outcome of one export.
    package enum Outcome: Sendable {
        /// Stored; points in `result.rejectedDataPoints` were not (the response's partial success).
        case stored(OTLPMetricsResult)
        /// The request is malformed or invalid: not retryable (HTTP 400, gRPC INVALID_ARGUMENT).
        case invalid(String)
        /// The request is larger than allowed (HTTP 413, gRPC RESOURCE_EXHAUSTED).
        case tooLarge(String)
        /// Osprey cannot take it now; retry later (HTTP 503, gRPC UNAVAILABLE, with a delay).
        case unavailable(String, retryAfterSeconds: Int)
    }

    /// Where metrics are stored.
    package let appendable: any MetricAppendable
    /// Where spans are stored; nil while traces are refused.
    package let traces: (any TraceWriter)?
    /// Translation and its state; replaced when the `otlp:` options change on reload.
    private let current: Mutex<OTLPMetricsIngester>
    /// Bound on bytes in flight.
    package let admission: OTLPAdmission
    /// Largest message, after decompression (the OpenTelemetry Collector's default: 20 MiB).
    package let maxMessageBytes: Int

    /// A receiver storing into `appendable`.
    package init(
        appendable: any MetricAppendable, traces: (any TraceWriter)? = nil, ingester: OTLPMetricsIngester = OTLPMetricsIngester(),
        admission: OTLPAdmission = OTLPAdmission(), maxMessageBytes: Int = 20 << 20
    ) {
        self.appendable = appendable
        self.traces = traces
        self.current = Mutex(ingester)
        self.admission = admission
        self.maxMessageBytes = maxMessageBytes
    }

    /// The ingester in use.
    package var ingester: OTLPMetricsIngester { current.withLock { $0 } }

    /// Applies new translation options (a configuration reload); delta totals are kept.
    package func update(options: OTLPOptions) {
        current.withLock { ingester in
            guard ingester.options != options else { return }
            ingester = OTLPMetricsIngester(options: options, limits: ingester.limits, deltas: ingester.deltas)
        }
    }

    /// Outcome of a trace export.
    package enum TraceOutcome: Sendable {
        /// Stored; `rejected` spans were not (the response's partial success).
        case stored(rejected: Int, message: String)
        /// Traces are not stored by this server.
        case unimplemented(String)
        case invalid(String)
        case tooLarge(String)
        case unavailable(String, retryAfterSeconds: Int)
    }

    /// Stores a protobuf `ExportTraceServiceRequest`; `admitted` as for metrics.
    package func exportTraces(_ message: [UInt8], admitted: Bool = false) async -> TraceOutcome {
        guard let traces else { return .unimplemented("Osprey does not store traces: spans are not accepted") }
        guard message.count <= maxMessageBytes else {
            return .tooLarge("message of \(message.count) bytes is larger than the limit of \(maxMessageBytes) bytes")
        }
        if !admitted {
            guard admission.admit(message.count) else { return .unavailable("too many OTLP requests in flight", retryAfterSeconds: 1) }
        }
        defer { if !admitted { admission.release(message.count) } }
        let batch: OTLPTraceBatch
        do {
            batch = try OTLPTraceDecoder.decode(message)
        } catch {
            return error.code == .tooLarge ? .tooLarge(error.description) : .invalid(error.description)
        }
        do {
            _ = try await traces.write(batch.spans)
        } catch {
            return .unavailable("storage: \(error.description)", retryAfterSeconds: 1)
        }
        return .stored(rejected: batch.rejectedSpans, message: batch.errorMessage)
    }

    /// Stores a protobuf `ExportMetricsServiceRequest`. `admitted` says the transport already
    /// holds an admission for it (taken before reading and decompressing the body).
    package func exportMetrics(_ message: [UInt8], admitted: Bool = false) async -> Outcome {
        guard message.count <= maxMessageBytes else {
            return .tooLarge("message of \(message.count) bytes is larger than the limit of \(maxMessageBytes) bytes")
        }
        if !admitted {
            guard admission.admit(message.count) else {
                return .unavailable("too many OTLP requests in flight", retryAfterSeconds: 1)
            }
        }
        defer { if !admitted { admission.release(message.count) } }
        let nowNs = UInt64(max(0, Date().timeIntervalSince1970 * 1e9))
        do {
            return .stored(try await self.ingester.ingest(message, into: appendable.appender(), nowNs: nowNs))
        } catch let error as IngestError {
            return error.code == .tooLarge ? .tooLarge(error.description) : .invalid(error.description)
        } catch let error as StorageError {
            switch error.code {
            case .limitExceeded: return .unavailable(error.description, retryAfterSeconds: 5)
            default: return .unavailable("storage: \(error.description)", retryAfterSeconds: 1)
            }
        } catch {
            return .unavailable("\(error)", retryAfterSeconds: 1)
        }
    }
}
