import Dispatch
import HTTPTypes
import Hummingbird
import Metrics
import Synchronization

/// Counts requests and records latencies per handler as
/// `osprey_http_requests_total{handler,code}` and `osprey_http_request_duration_seconds{handler}`.
struct HTTPMetricsMiddleware<Context: RequestContext>: RouterMiddleware {
    private let cache = MetricsCache()

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let start = DispatchTime.now().uptimeNanoseconds
        let handler = context.endpointPath ?? "unmatched"
        do {
            let response = try await next(request, context)
            cache.record(handler: handler, code: response.status.code, nanoseconds: DispatchTime.now().uptimeNanoseconds - start)
            return response
        } catch {
            let code = (error as? any HTTPResponseError)?.status.code ?? 500
            cache.record(handler: handler, code: code, nanoseconds: DispatchTime.now().uptimeNanoseconds - start)
            throw error
        }
    }
}

private final class MetricsCache: Sendable {
    private struct Key: Hashable {
        var handler: String
        var code: Int
    }

    private let counters = Mutex<[Key: Counter]>([:])
    private let timers = Mutex<[String: Metrics.Timer]>([:])

    func record(handler: String, code: Int, nanoseconds: UInt64) {
        let key = Key(handler: handler, code: code)
        let counter = counters.withLock { map in
            if let existing = map[key] { return existing }
            let made = Counter(label: "osprey_http_requests_total", dimensions: [("handler", handler), ("code", String(code))])
            map[key] = made
            return made
        }
        counter.increment()
        let timer = timers.withLock { map in
            if let existing = map[handler] { return existing }
            let made = Metrics.Timer(label: "osprey_http_request_duration_seconds", dimensions: [("handler", handler)])
            map[handler] = made
            return made
        }
        timer.recordNanoseconds(Int64(nanoseconds))
    }
}
