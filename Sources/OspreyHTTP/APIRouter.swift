import HTTPTypes
package import Hummingbird
import NIOCore
package import OspreyIngest
package import OspreyModel
import OspreyPromQL
package import OspreyScrape
package import OspreyStorage

/// What the HTTP layer needs from the rest of Osprey: the storage contracts and a few facts.
package struct HTTPDependencies: Sendable {
    /// Where writes go.
    package var appendable: any MetricAppendable
    /// Where reads come from.
    package var queryable: any MetricQueryable
    /// Head cardinality statistics.
    package var statistics: any HeadStatisticsProvider
    /// Build facts.
    package var buildInfo: BuildInfo
    /// Whether the server is ready to serve traffic.
    package var isReady: @Sendable () -> Bool
    /// Osprey's own metrics in the Prometheus text format.
    package var metricsText: @Sendable () -> String
    /// Remote-write limits and name validation.
    package var remoteWrite: RemoteWriteSettings
    /// Query limits.
    package var query: QuerySettings
    /// The TSDB admin API; nil unless enabled (`--web.enable-admin-api`).
    package var administration: (any MetricAdministration)?
    /// The scrape jobs' state, for the targets and metadata APIs.
    package var scrape: (any ScrapeStatusProvider)?
    /// Reloads the configuration file (`POST /-/reload`); throws what is wrong with it.
    package var reload: (@Sendable () async throws -> Void)?
    /// Pushgateway-style groups (`/metrics/job/…`).
    package var pushedGroups: PushedGroups?
    /// The OTLP receiver, for `/api/v1/otlp/v1/metrics` on the main port.
    package var otlp: OTLPReceiver?
    /// Where exemplars are found (`/api/v1/query_exemplars`).
    package var exemplars: (any ExemplarQueryable)?
    /// Where spans are found (the Jaeger query API).
    package var traces: (any TraceReader)?
    /// Most spans the Jaeger API returns per trace.
    package var maxSpansPerTrace = 100_000

    /// Bundles the dependencies.
    package init(
        appendable: any MetricAppendable, queryable: any MetricQueryable, statistics: any HeadStatisticsProvider,
        buildInfo: BuildInfo, isReady: @escaping @Sendable () -> Bool, metricsText: @escaping @Sendable () -> String,
        remoteWrite: RemoteWriteSettings, query: QuerySettings = QuerySettings(), administration: (any MetricAdministration)? = nil,
        scrape: (any ScrapeStatusProvider)? = nil, reload: (@Sendable () async throws -> Void)? = nil, pushedGroups: PushedGroups? = nil,
        otlp: OTLPReceiver? = nil, exemplars: (any ExemplarQueryable)? = nil, traces: (any TraceReader)? = nil
    ) {
        self.traces = traces
        self.otlp = otlp
        self.exemplars = exemplars
        self.pushedGroups = pushedGroups
        self.scrape = scrape
        self.reload = reload
        self.administration = administration
        self.appendable = appendable
        self.queryable = queryable
        self.statistics = statistics
        self.buildInfo = buildInfo
        self.isReady = isReady
        self.metricsText = metricsText
        self.remoteWrite = remoteWrite
        self.query = query
    }
}

/// Remote-write receiver settings.
package struct RemoteWriteSettings: Hashable, Sendable {
    /// Largest accepted body, compressed or decompressed, in bytes.
    package var maxBodyBytes: Int
    /// Which metric and label names are valid.
    package var nameValidation: NameValidationScheme

    /// Creates settings.
    package init(maxBodyBytes: Int = 32 << 20, nameValidation: NameValidationScheme = .utf8) {
        self.maxBodyBytes = maxBodyBytes
        self.nameValidation = nameValidation
    }
}

/// Builds the router serving every HTTP API Osprey has.
package func makeRouter(_ dependencies: HTTPDependencies) -> Router<OspreyRequestContext> {
    let router = Router(context: OspreyRequestContext.self)
    router.add(middleware: HTTPMetricsMiddleware())
    SeriesAPI(queryable: dependencies.queryable).register(on: router)
    QueryFormatAPI().register(on: router)
    QueryAPI(
        queryable: dependencies.queryable, settings: dependencies.query,
        scheduler: QueryScheduler(maxConcurrency: dependencies.query.maxConcurrency)
    ).register(on: router)
    StatusAPI(
        buildInfo: dependencies.buildInfo, statistics: dependencies.statistics,
        isReady: dependencies.isReady, metricsText: dependencies.metricsText
    ).register(on: router)
    RemoteWriteAPI(appendable: dependencies.appendable, settings: dependencies.remoteWrite).register(on: router)
    AdminAPI(administration: dependencies.administration).register(on: router)
    RemoteReadAPI(queryable: dependencies.queryable, maxBodyBytes: dependencies.remoteWrite.maxBodyBytes).register(on: router)
    if let scrape = dependencies.scrape { TargetsAPI(scrape: scrape).register(on: router) }
    if let exemplars = dependencies.exemplars { ExemplarsAPI(exemplars: exemplars).register(on: router) }
    if let traces = dependencies.traces {
        JaegerAPI(traces: traces, maxSpansPerTrace: dependencies.maxSpansPerTrace).register(on: router)
        JaegerAPIv3(traces: traces).register(on: router)
    }
    if let otlp = dependencies.otlp {
        OTLPHTTPAPI(receiver: otlp).register(on: router, paths: [RouterPath(OTLPHTTPAPI.prometheusMetricsPath)], signal: .metrics)
    }
    if let groups = dependencies.pushedGroups { PushgatewayAPI(groups: groups, maxBodyBytes: dependencies.remoteWrite.maxBodyBytes).register(on: router) }
    if let reload = dependencies.reload {
        for method in [HTTPRequest.Method.post, .put] {
            router.on("/-/reload", method: method) { _, _ in
                do {
                    try await reload()
                    return Response(status: .ok)
                } catch {
                    var buffer = ByteBuffer()
                    buffer.writeString("failed to reload config: \(error)\n")
                    return Response(status: .internalServerError, headers: [.contentType: "text/plain; charset=utf-8"], body: ResponseBody(byteBuffer: buffer))
                }
            }
        }
    }
    return router
}

/// Builds the router of the OTLP/HTTP port (`--otlp.http-address`, 4318 by default):
/// `/v1/metrics`, `/v1/traces` and `/v1/logs`.
package func makeOTLPRouter(_ receiver: OTLPReceiver) -> Router<OspreyRequestContext> {
    let router = Router(context: OspreyRequestContext.self)
    router.add(middleware: HTTPMetricsMiddleware())
    let api = OTLPHTTPAPI(receiver: receiver)
    api.register(on: router, paths: [RouterPath(OTLPHTTPAPI.metricsPath)], signal: .metrics)
    api.register(on: router, paths: [RouterPath(OTLPHTTPAPI.tracesPath)], signal: .traces)
    api.register(on: router, paths: [RouterPath(OTLPHTTPAPI.logsPath)], signal: .logs)
    return router
}
