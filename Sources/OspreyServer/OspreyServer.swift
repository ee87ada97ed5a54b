import Foundation
import Hummingbird
package import Logging
import OspreyGRPC
import OspreyHTTP
import OspreyIngest
import OspreyModel
import OspreyScrape
import OspreyTraceStore
import OspreyTSDB
package import Prometheus
import ServiceLifecycle
import Synchronization
import UnixSignals

/// The composition root: loads the configuration, opens the engines, wires the HTTP API and
/// runs everything in one `ServiceGroup` until SIGTERM/SIGINT.
package enum OspreyServer {
    /// Osprey's version.
    package static let version = "0.1.0"

    /// Runs the server until it is asked to stop. Throws ``ConfigError`` for a bad
    /// configuration and a storage error when the data directory cannot be opened.
    package static func run(options: ServerOptions, logger: Logger, registry: PrometheusCollectorRegistry?) async throws {
        let config = try loadConfig(options, logger: logger)
        var tsdbOptions = TSDBOptions()
        tsdbOptions.outOfOrderTimeWindowMs = config.storage.outOfOrderTimeWindowMs
        tsdbOptions.walCompression = options.walCompression
        tsdbOptions.walSyncPolicy = options.walSyncPolicy
        tsdbOptions.retentionMs = options.retentionMs
        tsdbOptions.retentionBytes = options.retentionBytes
        var tsdbLogger = logger
        tsdbLogger[metadataKey: "component"] = "tsdb"
        let tsdb = try TSDB.open(directory: options.storagePath, options: tsdbOptions, logger: tsdbLogger)
        let readiness = ReadinessFlag()
        let seriesGauge = registry?.makeGauge(name: "osprey_tsdb_head_series", help: "Series in the head.")
        var scrapeLogger = logger
        scrapeLogger[metadataKey: "component"] = "scrape"
        let userAgent = "Osprey/\(version)"
        let scrapeManager = ScrapeManager(appendable: tsdb, logger: scrapeLogger) { (job: ScrapeConfig) throws(ScrapeFetchError) -> any ScrapeClient in
            try HTTPScrapeClient(config: job, userAgent: userAgent)
        }
        var pushLogger = logger
        pushLogger[metadataKey: "component"] = "pushgateway"
        let pushedGroups = PushedGroups(
            appendable: tsdb, intervalMs: config.global.scrapeIntervalMs,
            persistencePath: (options.storagePath as NSString).appendingPathComponent("pushgateway.json"), logger: pushLogger)
        var traceOptions = TraceStoreOptions()
        traceOptions.syncEveryWrite = options.walSyncPolicy == .always
        traceOptions.retentionNanos = UInt64(max(1, options.traceRetentionMs)) * 1_000_000
        traceOptions.retentionBytes = options.traceRetentionBytes
        traceOptions.blockDurationNanos = UInt64(max(1, options.traceBlockDurationMs)) * 1_000_000
        var traceLogger = logger
        traceLogger[metadataKey: "component"] = "traces"
        let traceStore = try TraceStore.open(
            directory: (options.storagePath as NSString).appendingPathComponent("traces"), options: traceOptions, logger: traceLogger)
        let otlp = OTLPReceiver(
            appendable: tsdb, traces: traceStore, ingester: OTLPMetricsIngester(options: otlpOptions(config, options: options)),
            maxMessageBytes: options.otlpMaxMessageBytes)
        let reloader = ConfigReloader(options: options, manager: scrapeManager, otlp: otlp, logger: logger)
        var dependencies = HTTPDependencies(
            appendable: tsdb, queryable: tsdb, statistics: tsdb,
            buildInfo: BuildInfo(version: version, revision: "", branch: "", toolchain: "swift6"),
            isReady: { readiness.isReady },
            metricsText: {
                seriesGauge?.set(Double(tsdb.head.series.seriesCount))
                var bytes: [UInt8] = []
                registry?.emit(into: &bytes)
                return String(decoding: bytes, as: UTF8.self)
            },
            remoteWrite: RemoteWriteSettings(maxBodyBytes: options.remoteWriteMaxBodyBytes, nameValidation: config.global.metricNameValidationScheme),
            query: options.query,
            administration: options.enableAdminAPI ? tsdb : nil,
            scrape: scrapeManager,
            reload: { try await reloader.reload() },
            pushedGroups: pushedGroups,
            otlp: otlp,
            exemplars: tsdb,
            traces: traceStore
        )
        dependencies.maxSpansPerTrace = options.traceMaxSpansPerTrace
        var httpLoggerBuilder = logger
        httpLoggerBuilder[metadataKey: "component"] = "http"
        let httpLogger = httpLoggerBuilder
        let host = options.listenHost
        let port = options.listenPort
        let app = Application(
            router: makeRouter(dependencies),
            configuration: ApplicationConfiguration(address: .hostname(host, port: port), serverName: "Osprey"),
            onServerRunning: { _ in
                readiness.markReady()
                httpLogger.info("Osprey is ready", metadata: ["address": "\(host):\(port)"])
            },
            logger: httpLogger
        )
        var services: [ServiceGroupConfiguration.ServiceConfiguration] = [
            .init(service: TSDBService(tsdb: tsdb)),
            .init(service: ScrapeService(manager: scrapeManager, configs: scrapeJobs(config, options: options))),
            .init(service: ReloadSignalService(reloader: reloader)),
            .init(service: PushedGroupsService(groups: pushedGroups)),
            .init(service: TraceStoreService(store: traceStore, logger: traceLogger)),
            .init(service: app),
        ]
        var otlpLogger = logger
        otlpLogger[metadataKey: "component"] = "otlp"
        if let (otlpHost, otlpPort) = options.otlpHTTPAddress {
            let logger = otlpLogger
            services.append(.init(service: Application(
                router: makeOTLPRouter(otlp),
                configuration: ApplicationConfiguration(address: .hostname(otlpHost, port: otlpPort), serverName: "Osprey"),
                onServerRunning: { _ in logger.info("OTLP/HTTP receiver listening", metadata: ["address": "\(otlpHost):\(otlpPort)"]) },
                logger: otlpLogger
            )))
        }
        if let (zipkinHost, zipkinPort) = options.zipkinAddress {
            let logger = otlpLogger
            services.append(.init(service: Application(
                router: makeZipkinRouter(traces: traceStore, maxBodyBytes: options.otlpMaxMessageBytes),
                configuration: ApplicationConfiguration(address: .hostname(zipkinHost, port: zipkinPort), serverName: "Osprey"),
                onServerRunning: { _ in logger.info("Zipkin collector listening", metadata: ["address": "\(zipkinHost):\(zipkinPort)"]) },
                logger: otlpLogger
            )))
        }
        if let (grpcHost, grpcPort) = options.otlpGRPCAddress {
            services.append(.init(service: OTLPGRPCService(
                server: OTLPGRPCServer(host: grpcHost, port: grpcPort, receiver: otlp), address: "\(grpcHost):\(grpcPort)", logger: otlpLogger)))
        }
        let group = ServiceGroup(
            configuration: ServiceGroupConfiguration(
                services: services,
                gracefulShutdownSignals: [.sigterm, .sigint],
                logger: logger
            )
        )
        try await group.run()
    }

    /// The OTLP translation options: the `otlp:` section, with the query lookback delta.
    static func otlpOptions(_ config: OspreyConfig, options: ServerOptions) -> OTLPOptions {
        var otlp = config.otlp
        otlp.lookbackDeltaMs = options.query.lookbackDeltaMs
        return otlp
    }

    static func loadConfig(_ options: ServerOptions, logger: Logger) throws -> OspreyConfig {
        if FileManager.default.fileExists(atPath: options.configFile) {
            let config = try OspreyConfig.load(path: options.configFile)
            logger.info("loaded configuration", metadata: ["file": "\(options.configFile)"])
            return config
        }
        if options.configFileExplicit {
            throw ConfigError(file: options.configFile, line: nil, key: nil, message: "configuration file does not exist")
        }
        logger.info("no configuration file, using defaults", metadata: ["file": "\(options.configFile)"])
        return OspreyConfig()
    }
}

/// Set once the HTTP server listens.
final class ReadinessFlag: Sendable {
    private let flag = Atomic<Bool>(false)

    var isReady: Bool { flag.load(ordering: .acquiring) }

    func markReady() {
        flag.store(true, ordering: .releasing)
    }
}
