import CompressNIO
import Foundation
import HTTPTypes
package import Hummingbird
import NIOCore
import OspreyIngest
package import OspreyStorage

/// Zipkin's collector endpoint (`--zipkin.address`, 9411 by convention): `POST /api/v2/spans`
/// with a JSON array of v2 spans or a `zipkin.proto3` `ListOfSpans` (`application/x-protobuf`),
/// optionally gzip-compressed. Answers 202 once the spans are in the trace store's WAL, as
/// Zipkin does; 400 for malformed bodies or when every span was invalid; 413 over the size limit.
/// The v1 model (`/api/v1/spans`) is answered 415 with a message until Osprey reads it.
struct ZipkinAPI: Sendable {
    let traces: any TraceWriter
    let maxBodyBytes: Int

    func register(on router: Router<OspreyRequestContext>) {
        router.post("/api/v2/spans") { request, _ in await spans(request) }
        router.post("/api/v1/spans") { _, _ in
            text(.unsupportedMediaType, "Zipkin v1 spans are not supported by this version of Osprey; send the v2 model to /api/v2/spans")
        }
    }

    private func spans(_ request: Request) async -> Response {
        let type = (request.headers[.contentType] ?? "application/json").split(separator: ";").first.map { $0.trimmingCharacters(in: .whitespaces).lowercased() } ?? ""
        guard type == "application/json" || type == "application/x-protobuf" else {
            return text(.unsupportedMediaType, "unsupported Content-Type \"\(type)\"; Zipkin spans are application/json or application/x-protobuf")
        }
        var buffer: ByteBuffer
        do {
            var request = request
            buffer = try await request.collectBody(upTo: maxBodyBytes)
        } catch let error as any HTTPResponseError where error.status == .contentTooLarge {
            return text(.contentTooLarge, "request body larger than \(maxBodyBytes) bytes")
        } catch {
            return text(.badRequest, "cannot read the request body: \(error)")
        }
        if (request.headers[.contentEncoding] ?? "").lowercased() == "gzip" {
            do {
                buffer = try buffer.decompress(with: .gzip(), maxSize: maxBodyBytes)
            } catch let error as CompressNIOError where error == .bufferOverflow {
                return text(.contentTooLarge, "decompressed body larger than \(maxBodyBytes) bytes")
            } catch {
                return text(.badRequest, "gzip: the body is not valid gzip data")
            }
        }
        let body = Array(buffer: buffer)
        let batch: OTLPTraceBatch
        do {
            batch = type == "application/json" ? try ZipkinDecoder.decodeJSON(body) : try ZipkinDecoder.decodeProtobuf(body)
        } catch {
            return text(.badRequest, error.description)
        }
        if batch.spans.isEmpty && batch.rejectedSpans > 0 {
            return text(.badRequest, batch.errorMessage)
        }
        do {
            _ = try await traces.write(batch.spans)
        } catch {
            return text(.serviceUnavailable, "storage: \(error.description)")
        }
        return Response(status: .accepted)
    }

    private func text(_ status: HTTPResponse.Status, _ message: String) -> Response {
        Response(status: status, headers: [.contentType: "text/plain; charset=utf-8"], body: ResponseBody(byteBuffer: ByteBuffer(string: message + "\n")))
    }
}

/// The router of the Zipkin collector port.
package func makeZipkinRouter(traces: any TraceWriter, maxBodyBytes: Int) -> Router<OspreyRequestContext> {
    let router = Router(context: OspreyRequestContext.self)
    router.add(middleware: HTTPMetricsMiddleware())
    ZipkinAPI(traces: traces, maxBodyBytes: maxBodyBytes).register(on: router)
    return router
}
