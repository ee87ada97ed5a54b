package import GRPCCore
import GRPCProtobuf
package import OspreyIngest
import OspreyWire

/// A message handed over as its serialized bytes: the metrics service decodes it itself,
/// without building the generated message types (the protobuf hot path).
struct RawBytesCoder: MessageSerializer, MessageDeserializer {
    func serialize<Bytes: GRPCContiguousBytes>(_ message: [UInt8]) throws -> Bytes {
        Bytes(message)
    }

    func deserialize<Bytes: GRPCContiguousBytes>(_ serializedMessageBytes: Bytes) throws -> [UInt8] {
        serializedMessageBytes.withUnsafeBytes { Array($0) }
    }
}

/// `opentelemetry.proto.collector.metrics.v1.MetricsService/Export`,
/// `…trace.v1.TraceService/Export` (spans into the trace store) and the logs service's `Export`,
/// which answers `UNIMPLEMENTED` until Osprey stores logs.
///
/// Statuses as the OTLP spec says: `OK` with an `ExportMetricsServiceResponse` (its
/// `partial_success` when points were rejected) once the data is in the WAL;
/// `INVALID_ARGUMENT` for malformed or invalid requests (not retried); `RESOURCE_EXHAUSTED`
/// for messages over the size limit; `UNAVAILABLE` with a `RetryInfo` delay when Osprey
/// cannot take the request now (retried by exporters).
package struct OTLPGRPCServices: RegistrableRPCService {
    let receiver: OTLPReceiver

    /// Services storing metrics through `receiver`.
    package init(receiver: OTLPReceiver) {
        self.receiver = receiver
    }

    package func registerMethods<Transport: ServerTransport>(with router: inout RPCRouter<Transport>) {
        let receiver = self.receiver
        router.registerHandler(
            forMethod: Opentelemetry_Proto_Collector_Metrics_V1_MetricsService.Method.Export.descriptor,
            deserializer: RawBytesCoder(), serializer: RawBytesCoder()
        ) { request, _ in
            let single = try await ServerRequest(stream: request)
            switch await receiver.exportMetrics(single.message) {
            case .stored(let result):
                let response = OTLPResponses.export(.metrics, rejected: result.rejectedDataPoints, message: result.errorMessage, encoding: .protobuf)
                return StreamingServerResponse(single: ServerResponse(message: response))
            case .invalid(let message):
                throw RPCError(code: .invalidArgument, message: message)
            case .tooLarge(let message):
                throw RPCError(code: .resourceExhausted, message: message)
            case .unavailable(let message, let seconds):
                throw GoogleRPCStatus(code: .unavailable, message: message, details: .retryInfo(.init(delay: .seconds(seconds))))
            }
        }
        router.registerHandler(
            forMethod: Opentelemetry_Proto_Collector_Trace_V1_TraceService.Method.Export.descriptor,
            deserializer: RawBytesCoder(), serializer: RawBytesCoder()
        ) { request, _ in
            let single = try await ServerRequest(stream: request)
            switch await receiver.exportTraces(single.message) {
            case .stored(let rejected, let text):
                let response = OTLPResponses.export(.traces, rejected: rejected, message: text, encoding: .protobuf)
                return StreamingServerResponse(single: ServerResponse(message: response))
            case .unimplemented(let text):
                throw RPCError(code: .unimplemented, message: text)
            case .invalid(let text):
                throw RPCError(code: .invalidArgument, message: text)
            case .tooLarge(let text):
                throw RPCError(code: .resourceExhausted, message: text)
            case .unavailable(let text, let seconds):
                throw GoogleRPCStatus(code: .unavailable, message: text, details: .retryInfo(.init(delay: .seconds(seconds))))
            }
        }
        router.registerHandler(
            forMethod: Opentelemetry_Proto_Collector_Logs_V1_LogsService.Method.Export.descriptor,
            deserializer: RawBytesCoder(), serializer: RawBytesCoder()
        ) { _, _ in
            throw RPCError(code: .unimplemented, message: "Osprey does not store logs yet: log records are not accepted")
        }
    }
}
