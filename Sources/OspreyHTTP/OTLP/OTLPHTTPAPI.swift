import Foundation
import CompressNIO
import HTTPTypes
import Hummingbird
import NIOCore
import OspreyIngest

/// OTLP/HTTP (https://opentelemetry.io/docs/specs/otlp/#otlphttp): `POST /v1/metrics`,
/// `/v1/traces` and `/v1/logs` with `application/x-protobuf` or `application/json` bodies,
/// optionally gzip-compressed. Answers as the spec says:
/// - 200 with an `Export*ServiceResponse` in the request's encoding (`partial_success` when some
///   points were rejected), only after the data is in the WAL;
/// - 400 for malformed or invalid requests (never retried), 413 for bodies over the limit
///   (compressed or decompressed), 415 for other encodings, 405 for other methods;
/// - 503 with `Retry-After` when Osprey cannot take the request now;
/// - `/v1/traces` stores spans in the trace store (`partial_success` counts rejected spans);
/// - 501 for logs, which Osprey does not store yet (nothing is accepted and dropped).
/// Error bodies are `google.rpc.Status` messages in the request's encoding.
struct OTLPHTTPAPI: Sendable {
    let receiver: OTLPReceiver

    /// The paths of the OTLP port, and Prometheus' path for metrics on the main port.
    static let metricsPath = "/v1/metrics"
    static let tracesPath = "/v1/traces"
    static let logsPath = "/v1/logs"
    static let prometheusMetricsPath = "/api/v1/otlp/v1/metrics"

    func register(on router: Router<OspreyRequestContext>, paths: [RouterPath], signal: OTLPResponses.Signal) {
        for path in paths {
            router.post(path) { request, _ in
                await handle(request, signal: signal)
            }
            for method in [HTTPRequest.Method.get, .put, .delete, .patch, .head] {
                router.on(path, method: method) { request, _ in
                    error(.methodNotAllowed, code: 3, "only POST is allowed", encoding: encoding(of: request) ?? .json, headers: [.allow: "POST"])
                }
            }
        }
    }

    private func encoding(of request: Request) -> OTLPEncoding? {
        let type = (request.headers[.contentType] ?? "").split(separator: ";").first.map { $0.trimmingCharacters(in: .whitespaces).lowercased() } ?? ""
        switch type {
        case "application/x-protobuf": return .protobuf
        case "application/json": return .json
        default: return nil
        }
    }

    private func handle(_ request: Request, signal: OTLPResponses.Signal) async -> Response {
        guard let encoding = encoding(of: request) else {
            let type = request.headers[.contentType] ?? "none"
            return error(.unsupportedMediaType, code: 3, "unsupported Content-Type \"\(type)\"; OTLP/HTTP takes application/x-protobuf or application/json", encoding: .json)
        }
        switch signal {
        case .traces where receiver.traces == nil:
            return error(.notImplemented, code: 12, "Osprey does not store traces: spans sent to \(Self.tracesPath) are not accepted", encoding: encoding)
        case .logs:
            return error(.notImplemented, code: 12, "Osprey does not store logs yet: log records sent to \(Self.logsPath) are not accepted", encoding: encoding)
        case .metrics, .traces:
            break
        }
        // Admission before the body is read: a compressed or JSON body may take up to the
        // message limit once decoded, a plain protobuf one what it declares.
        let declared = request.headers[.contentLength].flatMap { Int($0) }
        let plain = encoding == .protobuf && (request.headers[.contentEncoding] ?? "identity").lowercased() == "identity"
        let reservation = plain ? min(declared ?? receiver.maxMessageBytes, receiver.maxMessageBytes) : receiver.maxMessageBytes
        guard receiver.admission.admit(reservation) else {
            return error(.serviceUnavailable, code: 14, "too many OTLP requests in flight", encoding: encoding, headers: [.retryAfter: "1"])
        }
        defer { receiver.admission.release(reservation) }
        let body: [UInt8]
        switch await readBody(request) {
        case .success(let bytes): body = bytes
        case .failure(let failure): return error(failure.status, code: failure.grpcCode, failure.message, encoding: encoding)
        }
        let message: [UInt8]
        if encoding == .json {
            do {
                message = signal == .traces ? try OTLPJSON.tracesRequest(body) : try OTLPJSON.metricsRequest(body)
            } catch {
                return self.error(.badRequest, code: 3, error.description, encoding: encoding)
            }
        } else {
            message = body
        }
        if signal == .traces {
            switch await receiver.exportTraces(message, admitted: true) {
            case .stored(let rejected, let text):
                return respond(.ok, OTLPResponses.export(.traces, rejected: rejected, message: text, encoding: encoding), encoding: encoding)
            case .unimplemented(let text):
                return error(.notImplemented, code: 12, text, encoding: encoding)
            case .invalid(let text):
                return error(.badRequest, code: 3, text, encoding: encoding)
            case .tooLarge(let text):
                return error(.contentTooLarge, code: 8, text, encoding: encoding)
            case .unavailable(let text, let seconds):
                return error(.serviceUnavailable, code: 14, text, encoding: encoding, headers: [.retryAfter: String(seconds)])
            }
        }
        switch await receiver.exportMetrics(message, admitted: true) {
        case .stored(let result):
            return respond(.ok, OTLPResponses.export(.metrics, rejected: result.rejectedDataPoints, message: result.errorMessage, encoding: encoding), encoding: encoding)
        case .invalid(let message):
            return error(.badRequest, code: 3, message, encoding: encoding)
        case .tooLarge(let message):
            return error(.contentTooLarge, code: 8, message, encoding: encoding)
        case .unavailable(let message, let seconds):
            return error(.serviceUnavailable, code: 14, message, encoding: encoding, headers: [.retryAfter: String(seconds)])
        }
    }

    private struct BodyFailure: Error {
        var status: HTTPResponse.Status
        var grpcCode: Int
        var message: String
    }

    /// The request body, decompressed, within the size limit on both sides of gzip.
    private func readBody(_ request: Request) async -> Result<[UInt8], BodyFailure> {
        let limit = receiver.maxMessageBytes
        let contentEncoding = (request.headers[.contentEncoding] ?? "identity").trimmingCharacters(in: .whitespaces).lowercased()
        guard ["gzip", "identity", ""].contains(contentEncoding) else {
            return .failure(BodyFailure(status: .unsupportedMediaType, grpcCode: 3, message: "unsupported Content-Encoding \"\(contentEncoding)\"; OTLP/HTTP takes gzip or none"))
        }
        var buffer: ByteBuffer
        do {
            var request = request
            buffer = try await request.collectBody(upTo: limit)
        } catch let error as any HTTPResponseError where error.status == .contentTooLarge {
            return .failure(BodyFailure(status: .contentTooLarge, grpcCode: 8, message: "request body larger than \(limit) bytes"))
        } catch {
            return .failure(BodyFailure(status: .badRequest, grpcCode: 3, message: "cannot read the request body: \(error)"))
        }
        guard contentEncoding == "gzip" else { return .success(Array(buffer: buffer)) }
        do {
            let decompressed = try buffer.decompress(with: .gzip(), maxSize: limit)
            return .success(Array(buffer: decompressed))
        } catch let error as CompressNIOError where error == .bufferOverflow {
            return .failure(BodyFailure(status: .contentTooLarge, grpcCode: 8, message: "decompressed body larger than \(limit) bytes"))
        } catch {
            return .failure(BodyFailure(status: .badRequest, grpcCode: 3, message: "gzip: the body is not valid gzip data (\(error))"))
        }
    }

    private func respond(_ status: HTTPResponse.Status, _ bytes: [UInt8], encoding: OTLPEncoding, headers extra: HTTPFields = [:]) -> Response {
        var headers: HTTPFields = [.contentType: encoding.contentType]
        headers.append(contentsOf: extra)
        return Response(status: status, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(bytes: bytes)))
    }

    private func error(_ status: HTTPResponse.Status, code: Int, _ message: String, encoding: OTLPEncoding, headers: HTTPFields = [:]) -> Response {
        respond(status, OTLPResponses.status(code: code, message: message, encoding: encoding), encoding: encoding, headers: headers)
    }
}
