import HTTPTypes
import Hummingbird
import NIOCore
import OspreyIngest
import OspreyStorage

/// `POST /api/v1/write`: Prometheus remote write 1.0 (`prometheus.WriteRequest`) and 2.0
/// (`io.prometheus.write.v2.Request`), snappy-compressed protobuf.
///
/// Answers 204 only after the samples are in the WAL. Invalid input → 400 with a message and
/// nothing applied; out-of-order samples are skipped, counted and reported in a 400 after the
/// rest is stored (Prometheus 3's behaviour). Spec: https://prometheus.io/docs/specs/prw/remote_write_spec_2_0/
struct RemoteWriteAPI: Sendable {
    let appendable: any MetricAppendable
    let settings: RemoteWriteSettings
    /// Label bytes → series reference of series already stored, shared by all requests.
    let seriesCache = SeriesRefCache()

    func register(on router: Router<OspreyRequestContext>) {
        router.post("/api/v1/write") { request, _ in
            await write(request)
        }
    }

    private func decode(_ body: [UInt8], _ version: ProtoVersion, cache: SeriesRefCache?) throws(IngestError) -> RemoteWriteRequest {
        let result = body.withUnsafeBytes { bytes in
            Result { () throws(IngestError) -> RemoteWriteRequest in
                switch version {
                case .v1: return try RemoteWriteDecoder.decodeV1(bytes, cache: cache)
                case .v2: return try RemoteWriteDecoder.decodeV2(bytes)
                }
            }
        }
        return try result.get()
    }

    private enum ProtoVersion {
        case v1, v2
    }

    private func write(_ request: Request) async -> Response {
        let version: ProtoVersion
        switch negotiate(request) {
        case .success(let negotiated): version = negotiated
        case .failure(let error): return ErrorMapping.textResponse(for: error)
        }
        do {
            var request = request
            let body = try await request.collectBody(upTo: settings.maxBodyBytes)
            let raw = Array(buffer: body)
            let decompressed = try RemoteWriteDecoder.decompress(raw, maxDecodedBytes: settings.maxBodyBytes)
            let ingester = RemoteWriteIngester(limits: RemoteWriteLimits(), nameValidation: settings.nameValidation)
            let result: RemoteWriteResult
            do {
                let decoded = try decode(decompressed, version, cache: seriesCache)
                result = try await ingester.ingest(decoded, into: appendable.appender(), cache: version == .v1 ? seriesCache : nil)
            } catch is RemoteWriteIngester.StaleCacheError {
                let decoded = try decode(decompressed, version, cache: nil)
                result = try await ingester.ingest(decoded, into: appendable.appender())
            }
            var response: Response
            if let rejection = result.rejectionSummary {
                response = ErrorMapping.textResponse(for: APIError(.badData, rejection))
            } else {
                response = Response(status: .noContent)
            }
            if version == .v2 { addWrittenHeaders(&response, result) }
            return response
        } catch let error as IngestError {
            return ErrorMapping.textResponse(for: apiError(error))
        } catch let error as StorageError {
            return ErrorMapping.textResponse(for: ErrorMapping.apiError(for: error))
        } catch let error as any HTTPResponseError where error.status == .contentTooLarge {
            // A 4xx that clients do not retry; 400 as for every other unacceptable body.
            return ErrorMapping.textResponse(for: APIError(.badData, "request body larger than \(settings.maxBodyBytes) bytes (--web.remote-write.max-body-bytes)"))
        } catch {
            return ErrorMapping.textResponse(for: APIError(.internal, "\(error)"))
        }
    }

    private func negotiate(_ request: Request) -> Result<ProtoVersion, APIError> {
        if let encoding = request.headers[.contentEncoding], encoding.lowercased() != "snappy" {
            return .failure(APIError(.unsupportedMediaType, "unsupported Content-Encoding \"\(encoding)\"; remote write bodies must be snappy-compressed"))
        }
        let contentType = (request.headers[.contentType] ?? "application/x-protobuf").lowercased()
        let parts = contentType.split(separator: ";").map { String($0.filter { $0 != " " && $0 != "\t" }) }
        guard parts.first == "application/x-protobuf" else {
            return .failure(APIError(.unsupportedMediaType, "unsupported Content-Type \"\(contentType)\"; expected application/x-protobuf"))
        }
        let proto = parts.dropFirst().first { $0.hasPrefix("proto=") }.map { String($0.dropFirst(6)) }
        switch proto {
        case nil, "prometheus.writerequest": return .success(.v1)
        case "io.prometheus.write.v2.request": return .success(.v2)
        case let other?:
            return .failure(APIError(.unsupportedMediaType, "unsupported proto \"\(other)\"; expected prometheus.WriteRequest or io.prometheus.write.v2.Request"))
        }
    }

    private static let writtenHeaders = (
        samples: HTTPField.Name("X-Prometheus-Remote-Write-Samples-Written"),
        histograms: HTTPField.Name("X-Prometheus-Remote-Write-Histograms-Written"),
        exemplars: HTTPField.Name("X-Prometheus-Remote-Write-Exemplars-Written")
    )

    private func addWrittenHeaders(_ response: inout Response, _ result: RemoteWriteResult) {
        if let name = Self.writtenHeaders.samples { response.headers[name] = String(result.samplesWritten) }
        if let name = Self.writtenHeaders.histograms { response.headers[name] = String(result.histogramsWritten) }
        if let name = Self.writtenHeaders.exemplars { response.headers[name] = String(result.exemplarsWritten) }
    }

    private func apiError(_ error: IngestError) -> APIError {
        switch error.code {
        case .tooLarge: return APIError(.badData, "\(error.description) (--web.remote-write.max-body-bytes)")
        case .unsupported: return APIError(.unsupportedMediaType, error.description)
        default: return APIError(.badData, error.description)
        }
    }
}
