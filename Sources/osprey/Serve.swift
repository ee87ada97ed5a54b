import ArgumentParser
import Foundation
import Logging
import Metrics
import OspreyHTTP
import OspreyModel
import OspreyServer
import OspreyTSDB
import Prometheus

struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run the Osprey server.",
        discussion: """
            Flags follow Prometheus' names. The configuration file uses prometheus.yml's syntax; \
            today Osprey reads its `global` and `storage` sections and rejects sections it does \
            not support yet. Without --config.file, ./osprey.yml is used if it exists.
            """
    )

    @Option(name: .customLong("config.file"), help: "Configuration file (YAML, prometheus.yml syntax).")
    var configFile: String?

    @Option(name: [.customLong("storage.path"), .customLong("storage.tsdb.path")], help: "Data directory (WAL in Prometheus' format).")
    var storagePath = "data"

    @Option(name: .customLong("web.listen-address"), help: "Address of the HTTP API, host:port (e.g. 127.0.0.1:9090).")
    var listenAddress = "0.0.0.0:9090"

    @Option(name: .customLong("log.level"), help: "Only log messages at this level or above: debug, info, warn, error.")
    var logLevel = "info"

    @Option(name: .customLong("storage.tsdb.wal-compression"), help: "Compress WAL records with Snappy (true/false).")
    var walCompression = false

    @Option(
        name: .customLong("storage.tsdb.wal-sync"),
        help: "When an acknowledged write is durable: 'write' (survives a process crash; fsync every second) or 'always' (fsync before acknowledging; survives power loss)."
    )
    var walSync = "write"

    @Option(name: .customLong("storage.tsdb.retention.time"), help: "How long to keep blocks (a Prometheus duration, default 15d).")
    var retentionTime = "15d"

    @Option(name: .customLong("storage.tsdb.retention.size"), help: "Most bytes blocks and WAL may take, e.g. 512MB or 100GB (KB = 1024 B); 0 for no limit.")
    var retentionSize = "0"

    @Flag(name: .customLong("web.enable-admin-api"), help: "Serve the TSDB admin endpoints (/api/v1/admin/tsdb/*: delete series, clean tombstones, snapshot).")
    var enableAdminAPI = false

    @Option(name: .customLong("web.remote-write.max-body-bytes"), help: "Largest accepted remote-write body, compressed or not.")
    var remoteWriteMaxBodyBytes = 32 << 20

    @Option(name: .customLong("query.timeout"), help: "Longest a query may run before it is aborted (a Prometheus duration, e.g. 2m).")
    var queryTimeout = "2m"

    @Option(name: .customLong("query.max-samples"), help: "Most samples a single query may hold in memory; a query needing more fails.")
    var queryMaxSamples = 50_000_000

    @Option(name: .customLong("query.max-concurrency"), help: "Most queries evaluated at once; further queries wait.")
    var queryMaxConcurrency = 20

    @Option(name: .customLong("query.lookback-delta"), help: "How far back an instant selector looks for a sample (default 5m).")
    var queryLookbackDelta = "5m"

    @Flag(name: .customLong("web.enable-lifecycle"), help: "Accepted for Prometheus compatibility: POST /-/reload is always served.")
    var enableLifecycle = false

    @Option(name: .customLong("scrape.self"), help: "Scrape Osprey's own /metrics as job osprey (true or false).")
    var scrapeSelf = true

    @Option(name: .customLong("otlp.grpc-address"), help: "Address of the OTLP/gRPC receiver, host:port; empty to turn it off.")
    var otlpGRPCAddress = ":4317"

    @Option(name: .customLong("otlp.http-address"), help: "Address of the OTLP/HTTP receiver (/v1/metrics, /v1/traces, /v1/logs), host:port; empty to turn it off.")
    var otlpHTTPAddress = ":4318"

    @Option(name: .customLong("zipkin.address"), help: "Address of the Zipkin collector endpoint (POST /api/v2/spans), host:port such as :9411; off unless set.")
    var zipkinAddress = ""

    @Option(name: .customLong("traces.max-spans-per-trace"), help: "Most spans the Jaeger API returns for one trace; larger traces are cut with a warning.")
    var tracesMaxSpansPerTrace = 100_000

    @Option(name: .customLong("traces.retention.time"), help: "How long to keep spans (a Prometheus duration, default 7d).")
    var tracesRetentionTime = "7d"

    @Option(name: .customLong("traces.retention.size"), help: "Most bytes trace blocks may take, e.g. 10GB; 0 for no limit.")
    var tracesRetentionSize = "0"

    @Option(name: .customLong("traces.block-duration"), help: "How long spans collect in memory before they are written as a block (default 15m).")
    var tracesBlockDuration = "15m"

    @Option(name: .customLong("otlp.max-message-bytes"), help: "Largest OTLP message, compressed or decompressed (default 20 MiB, as the OpenTelemetry Collector).")
    var otlpMaxMessageBytes = 20 << 20

    /// A size as Prometheus' `--storage.tsdb.retention.size` takes it: a number and a unit
    /// among B, KB, MB, GB, TB, PB, EB (powers of 1024); a bare number is bytes.
    static func parseBytes(_ text: String) -> Int64? {
        let units: [(String, Int64)] = [("EB", 1 << 60), ("PB", 1 << 50), ("TB", 1 << 40), ("GB", 1 << 30), ("MB", 1 << 20), ("KB", 1 << 10), ("B", 1)]
        let trimmed = text.trimmingCharacters(in: .whitespaces).uppercased()
        for (unit, factor) in units where trimmed.hasSuffix(unit) {
            guard let number = Int64(trimmed.dropLast(unit.count)), number >= 0 else { return nil }
            let (bytes, overflow) = number.multipliedReportingOverflow(by: factor)
            return overflow ? nil : bytes
        }
        guard let number = Int64(trimmed), number >= 0 else { return nil }
        return number
    }

    func validate() throws {
        for (flag, value) in [("query.timeout", queryTimeout), ("query.lookback-delta", queryLookbackDelta)] {
            guard let ms = PrometheusDuration.parseMilliseconds(value), ms > 0 else {
                throw ValidationError("invalid --\(flag) \"\(value)\": use a positive duration such as 2m or 30s")
            }
        }
        guard queryMaxSamples > 0 else { throw ValidationError("--query.max-samples must be positive") }
        guard queryMaxConcurrency > 0 else { throw ValidationError("--query.max-concurrency must be positive") }
        guard ServerOptions.parseListenAddress(listenAddress) != nil else {
            throw ValidationError("invalid --web.listen-address \"\(listenAddress)\": use host:port, e.g. 127.0.0.1:9090")
        }
        guard parseLevel(logLevel) != nil else {
            throw ValidationError("invalid --log.level \"\(logLevel)\": use debug, info, warn or error")
        }
        guard WALSyncPolicy(rawValue: walSync) != nil else {
            throw ValidationError("invalid --storage.tsdb.wal-sync \"\(walSync)\": use write or always")
        }
        guard let retention = PrometheusDuration.parseMilliseconds(retentionTime), retention > 0 else {
            throw ValidationError("invalid --storage.tsdb.retention.time \"\(retentionTime)\": use a positive duration such as 15d or 12h")
        }
        guard Self.parseBytes(retentionSize) != nil else {
            throw ValidationError("invalid --storage.tsdb.retention.size \"\(retentionSize)\": use a size such as 512MB or 100GB, or 0")
        }
        for (flag, value) in [("otlp.grpc-address", otlpGRPCAddress), ("otlp.http-address", otlpHTTPAddress), ("zipkin.address", zipkinAddress)] where !value.isEmpty {
            guard ServerOptions.parseListenAddress(value) != nil else {
                throw ValidationError("invalid --\(flag) \"\(value)\": use host:port, e.g. 127.0.0.1:4317, or an empty value to turn it off")
            }
        }
        guard otlpMaxMessageBytes > 0 else { throw ValidationError("--otlp.max-message-bytes must be positive") }
        guard tracesMaxSpansPerTrace > 0 else { throw ValidationError("--traces.max-spans-per-trace must be positive") }
        for (flag, value) in [("traces.retention.time", tracesRetentionTime), ("traces.block-duration", tracesBlockDuration)] {
            guard let ms = PrometheusDuration.parseMilliseconds(value), ms > 0 else {
                throw ValidationError("invalid --\(flag) \"\(value)\": use a positive duration such as 7d or 15m")
            }
        }
        guard Self.parseBytes(tracesRetentionSize) != nil else {
            throw ValidationError("invalid --traces.retention.size \"\(tracesRetentionSize)\": use a size such as 10GB, or 0")
        }
        guard remoteWriteMaxBodyBytes > 0 else {
            throw ValidationError("--web.remote-write.max-body-bytes must be positive")
        }
    }

    func run() async throws {
        var options = ServerOptions()
        if let configFile {
            options.configFile = configFile
            options.configFileExplicit = true
        }
        options.storagePath = storagePath
        if let (host, port) = ServerOptions.parseListenAddress(listenAddress) {
            options.listenHost = host
            options.listenPort = port
        }
        let level = parseLevel(logLevel) ?? .info
        options.logLevel = level
        options.walCompression = walCompression
        options.walSyncPolicy = WALSyncPolicy(rawValue: walSync) ?? .write
        options.remoteWriteMaxBodyBytes = remoteWriteMaxBodyBytes
        options.enableAdminAPI = enableAdminAPI
        options.selfMonitoring = scrapeSelf
        options.otlpGRPCAddress = otlpGRPCAddress.isEmpty ? nil : ServerOptions.parseListenAddress(otlpGRPCAddress)
        options.otlpHTTPAddress = otlpHTTPAddress.isEmpty ? nil : ServerOptions.parseListenAddress(otlpHTTPAddress)
        options.otlpMaxMessageBytes = otlpMaxMessageBytes
        options.traceMaxSpansPerTrace = tracesMaxSpansPerTrace
        options.zipkinAddress = zipkinAddress.isEmpty ? nil : ServerOptions.parseListenAddress(zipkinAddress)
        options.traceRetentionMs = PrometheusDuration.parseMilliseconds(tracesRetentionTime) ?? options.traceRetentionMs
        options.traceRetentionBytes = Self.parseBytes(tracesRetentionSize) ?? 0
        options.traceBlockDurationMs = PrometheusDuration.parseMilliseconds(tracesBlockDuration) ?? options.traceBlockDurationMs
        options.retentionMs = PrometheusDuration.parseMilliseconds(retentionTime) ?? options.retentionMs
        options.retentionBytes = Self.parseBytes(retentionSize) ?? 0
        options.query.timeoutMs = PrometheusDuration.parseMilliseconds(queryTimeout) ?? 120_000
        options.query.lookbackDeltaMs = PrometheusDuration.parseMilliseconds(queryLookbackDelta) ?? 300_000
        options.query.maxSamples = queryMaxSamples
        options.query.maxConcurrency = queryMaxConcurrency

        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
        let registry = PrometheusCollectorRegistry()
        MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: registry))
        var logger = Logger(label: "osprey")
        logger.logLevel = level
        do {
            try await OspreyServer.run(options: options, logger: logger, registry: registry)
        } catch let error as ConfigError {
            logger.error("invalid configuration: \(error)")
            throw ExitCode(1)
        }
    }
}

func parseLevel(_ text: String) -> Logger.Level? {
    switch text.lowercased() {
    case "debug": return .debug
    case "info": return .info
    case "warn", "warning": return .warning
    case "error": return .error
    default: return nil
    }
}
