import HTTPTypes
import Hummingbird
import NIOCore
import OspreyEncoding
import OspreyIngest
import OspreyStorage

/// `POST /api/v1/read`: Prometheus remote read with the samples response type, so that a
/// Prometheus with `remote_read` pointed at Osprey sees Osprey's data.
struct RemoteReadAPI: Sendable {
    let queryable: any MetricQueryable
    let maxBodyBytes: Int
    /// Most samples one read may return (Prometheus' `--storage.remote.read-sample-limit`).
    var maxSamples = 50_000_000

    func register(on router: Router<OspreyRequestContext>) {
        router.post("/api/v1/read") { request, _ in
            await read(request)
        }
    }

    private func read(_ request: Request) async -> Response {
        do {
            var request = request
            let body = try await request.collectBody(upTo: maxBodyBytes)
            let decompressed = try RemoteWriteDecoder.decompress(Array(buffer: body), maxDecodedBytes: maxBodyBytes)
            let decoded = try decompressed.withUnsafeBytes { bytes throws(IngestError) in try RemoteRead.decodeRequest(bytes) }
            guard decoded.acceptsSamples else {
                return ErrorMapping.textResponse(for: APIError(.badData, "unsupported response types \(decoded.acceptedResponseTypes); Osprey answers remote read with SAMPLES"))
            }
            let encoded = try RemoteRead.execute(decoded, on: queryable, maxSamples: maxSamples)
            var compressed: [UInt8] = []
            compressed.reserveCapacity(encoded.count / 2)
            encoded.withUnsafeBytes { Snappy.compress($0, appendingTo: &compressed) }
            return Response(
                status: .ok,
                headers: [.contentType: "application/x-protobuf", .contentEncoding: "snappy"],
                body: ResponseBody(byteBuffer: ByteBuffer(bytes: compressed))
            )
        } catch let error as IngestError {
            return ErrorMapping.textResponse(for: APIError(error.code == .tooLarge ? .tooLarge : .badData, error.description))
        } catch let error as StorageError {
            return ErrorMapping.textResponse(for: ErrorMapping.apiError(for: error))
        } catch let error as any HTTPResponseError where error.status == .contentTooLarge {
            return ErrorMapping.textResponse(for: APIError(.tooLarge, "request body larger than \(maxBodyBytes) bytes"))
        } catch {
            return ErrorMapping.textResponse(for: APIError(.internal, "\(error)"))
        }
    }
}
