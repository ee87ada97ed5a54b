import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import OspreyIngest
import OspreyModel
package import OspreyScrape

/// The Pushgateway push API: `PUT` (replace the group), `POST` (replace the pushed families)
/// and `DELETE` (delete the group) on `/metrics/job/<job>{/<label>/<value>}`, names suffixed
/// `@base64` for base64-encoded values; the text format. Answers as the Pushgateway does:
/// 200 for a push, 202 for a delete, 400 with the problem in plain text.
struct PushgatewayAPI: Sendable {
    let groups: PushedGroups
    let maxBodyBytes: Int

    func register(on router: Router<OspreyRequestContext>) {
        for prefix in ["/metrics/job/**", "/metrics/job@base64/**"] {
            router.put(RouterPath(prefix)) { request, context in await push(request, context, mode: .replace) }
            router.post(RouterPath(prefix)) { request, context in await push(request, context, mode: .merge) }
            router.delete(RouterPath(prefix)) { request, context in await delete(request, context) }
        }
    }

    private func grouping(_ request: Request) throws(IngestError) -> Labels {
        let path = request.uri.path
        guard path.hasPrefix("/metrics/") else { throw IngestError(code: .badRequest, message: "the path must start with /metrics/job/") }
        var segments = path.dropFirst("/metrics/".count).split(separator: "/", omittingEmptySubsequences: false).map { String($0).removingPercentEncoding ?? String($0) }
        // A trailing slash (…/instance/) leaves an empty last segment; Pushgateway ignores it.
        if segments.count % 2 == 1, segments.last == "" { segments.removeLast() }
        return try PushgatewayGroupingKey.parse(segments: segments)
    }

    private func push(_ request: Request, _ context: OspreyRequestContext, mode: PushedGroups.Mode) async -> Response {
        do {
            let labels = try grouping(request)
            var request = request
            let body = try await request.collectBody(upTo: maxBodyBytes)
            try await groups.push(grouping: labels, body: Array(buffer: body), contentType: request.headers[.contentType] ?? "", mode: mode)
            return Response(status: .ok)
        } catch let error as IngestError {
            return Self.text(error.code == .unsupported ? .unsupportedMediaType : .badRequest, error.message)
        } catch let error as any HTTPResponseError where error.status == .contentTooLarge {
            return Self.text(.contentTooLarge, "request body larger than \(maxBodyBytes) bytes")
        } catch {
            return Self.text(.internalServerError, "\(error)")
        }
    }

    private func delete(_ request: Request, _ context: OspreyRequestContext) async -> Response {
        do {
            await groups.delete(grouping: try grouping(request))
            return Response(status: .accepted)
        } catch {
            return Self.text(.badRequest, error.message)
        }
    }

    private static func text(_ status: HTTPResponse.Status, _ message: String) -> Response {
        var buffer = ByteBuffer()
        buffer.writeString(message + "\n")
        return Response(status: status, headers: [.contentType: "text/plain; charset=utf-8"], body: ResponseBody(byteBuffer: buffer))
    }
}
