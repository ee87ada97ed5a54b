import Dispatch
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
package import OspreyModel
import OspreyPromQL
import OspreyPromQLParser
package import OspreyStorage

/// How queries run: Prometheus' `--query.*` flags.
package struct QuerySettings: Hashable, Sendable {
    /// Longest a query may run, in ms (`--query.timeout`, 2m).
    package var timeoutMs: Int64 = 120_000
    /// Most samples a query may hold (`--query.max-samples`).
    package var maxSamples = 50_000_000
    /// Most queries running at once (`--query.max-concurrency`).
    package var maxConcurrency = 20
    /// Default lookback of instant selectors (`--query.lookback-delta`, 5m).
    package var lookbackDeltaMs: Int64 = 300_000

    /// Prometheus' defaults.
    package init() {}
}

/// `/api/v1/query` and `/api/v1/query_range`, as Prometheus answers them.
struct QueryAPI: Sendable {
    let queryable: any MetricQueryable
    let settings: QuerySettings
    let scheduler: QueryScheduler

    /// Prometheus refuses range queries with more points per series than this.
    static let maxPointsPerSeries: Int64 = 11_000

    func register(on router: Router<OspreyRequestContext>) {
        router.get("/api/v1/query") { request, context in try await handle { try await instant(request, context) } }
        router.post("/api/v1/query") { request, context in try await handle { try await instant(request, context) } }
        router.get("/api/v1/query_range") { request, context in try await handle { try await range(request, context) } }
        router.post("/api/v1/query_range") { request, context in try await handle { try await range(request, context) } }
    }

    private func instant(_ request: Request, _ requestContext: OspreyRequestContext) async throws -> Response {
        let parameters = try await APIParameters.from(request)
        let nowMs = Int64(Date.nowMilliseconds)
        let timestamp = try parameters.time("time", default: nowMs)
        let options = try QueryOptions(parameters, settings: settings)
        let text = parameters.first("query") ?? ""
        let expr = try Self.parse(text)
        let context = QueryContext(query: text, limits: options.limits)
        let engine = options.engine(queryable)
        let started = DispatchTime.now()
        let value = try await run(context, requestContext) { () throws(PromQLError) in try engine.prepareInstantQuery(expr, atMs: timestamp, context: context) }
        return QueryResultJSON.response(value, limit: options.limit, report: context.report, stats: options.stats, started: started)
    }

    private func range(_ request: Request, _ requestContext: OspreyRequestContext) async throws -> Response {
        let parameters = try await APIParameters.from(request)
        let start = try parameters.requiredTime("start")
        let end = try parameters.requiredTime("end")
        guard end >= start else { throw APIError(.badData, "invalid parameter \"end\": end timestamp must not be before start time") }
        let step = try parameters.durationMs("step") ?? { () throws(APIError) -> Int64 in
            throw APIError(.badData, "invalid parameter \"step\": cannot parse \"\" to a valid duration")
        }()
        guard step > 0 else {
            throw APIError(.badData, "invalid parameter \"step\": zero or negative query resolution step widths are not accepted. Try a positive integer")
        }
        guard (end - start) / step <= Self.maxPointsPerSeries else {
            throw APIError(.badData, "exceeded maximum resolution of 11,000 points per timeseries. Try decreasing the query resolution (?step=XX)")
        }
        let options = try QueryOptions(parameters, settings: settings)
        let text = parameters.first("query") ?? ""
        let expr = try Self.parse(text)
        guard expr.type == .scalar || expr.type == .vector else {
            throw APIError(.badData, "invalid parameter \"query\": invalid expression type \"\(expr.type.rawValue)\" for range query, must be Scalar or instant Vector")
        }
        let context = QueryContext(query: text, limits: options.limits)
        let engine = options.engine(queryable)
        let started = DispatchTime.now()
        let matrix = try await run(context, requestContext) { () throws(PromQLError) in
            try engine.prepareRangeQuery(expr, startMs: start, endMs: end, stepMs: step, context: context)
        }
        return QueryResultJSON.response(.matrix(matrix), limit: options.limit, report: context.report, stats: options.stats, started: started)
    }

    /// Runs an evaluation on the scheduler; the query is canceled when the client's
    /// connection closes first.
    private func run<T: Sendable>(
        _ context: QueryContext, _ requestContext: OspreyRequestContext, _ prepare: @escaping @Sendable () throws(PromQLError) -> PreparedQuery<T>
    ) async throws -> T {
        // The server allows half-closed connections, so a client hanging up shows only as an
        // `inputClosed` event at the head of the pipeline: watch for it while the query runs.
        let channel = requestContext.channel
        let watcher = HangUpWatcher(context)
        _ = channel.eventLoop.submit {
            try channel.pipeline.syncOperations.addHandler(watcher, position: .first)
            channel.read()
        }
        defer { _ = channel.eventLoop.submit { channel.pipeline.syncOperations.removeHandler(watcher, promise: nil) } }
        do {
            return try await scheduler.run(context, prepare: prepare)
        } catch {
            throw Self.apiError(error)
        }
    }

    static func parse(_ text: String) throws(APIError) -> Expr {
        do {
            return try PromQLParser.parse(text)
        } catch {
            throw APIError(.badData, "invalid parameter \"query\": \(error)")
        }
    }

    static func apiError(_ error: PromQLError) -> APIError {
        switch error.code {
        case .execution, .unsupported: return APIError(.execution, error.message)
        case .timeout: return APIError(.timeout, error.message)
        case .canceled: return APIError(.canceled, error.message)
        case .storage: return APIError(.internal, error.message)
        }
    }
}

/// Cancels a query when its client closes the connection (or its sending side).
final class HangUpWatcher: ChannelInboundHandler, RemovableChannelHandler, @unchecked Sendable {
    typealias InboundIn = ByteBuffer
    private let query: QueryContext

    init(_ query: QueryContext) {
        self.query = query
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if case .inputClosed? = event as? ChannelEvent { query.cancel() }
        context.fireUserInboundEventTriggered(event)
    }

    func channelInactive(context: ChannelHandlerContext) {
        query.cancel()
        context.fireChannelInactive()
    }
}

/// The per-request query options shared by instant and range queries.
struct QueryOptions {
    var limits: QueryLimits
    var lookbackDeltaMs: Int64
    var limit: Int
    var stats: Bool

    init(_ parameters: APIParameters, settings: QuerySettings) throws(APIError) {
        var timeoutMs = settings.timeoutMs
        if let requested = try parameters.durationMs("timeout"), requested > 0 {
            timeoutMs = min(timeoutMs, requested)
        }
        limits = QueryLimits(timeoutNanoseconds: timeoutMs > 0 ? UInt64(timeoutMs) * 1_000_000 : nil, maxSamples: settings.maxSamples)
        lookbackDeltaMs = settings.lookbackDeltaMs
        if let requested = try parameters.durationMs("lookback_delta"), requested > 0 {
            lookbackDeltaMs = requested
        }
        limit = try parameters.limit()
        stats = !(parameters.first("stats") ?? "").isEmpty
    }

    func engine(_ queryable: any MetricQueryable) -> PromQLEngine {
        var engine = PromQLEngine(queryable: queryable)
        engine.lookbackDeltaMs = lookbackDeltaMs
        return engine
    }
}

extension Date {
    static var nowMilliseconds: Double { Date().timeIntervalSince1970 * 1000 }
}
