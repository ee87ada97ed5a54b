import ArgumentParser
import Foundation
import Logging
import Metrics
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

    @Option(name: .customLong("web.remote-write.max-body-bytes"), help: "Largest accepted remote-write body, compressed or not.")
    var remoteWriteMaxBodyBytes = 32 << 20

    func validate() throws {
        guard ServerOptions.parseListenAddress(listenAddress) != nil else {
            throw ValidationError("invalid --web.listen-address \"\(listenAddress)\": use host:port, e.g. 127.0.0.1:9090")
        }
        guard parseLevel(logLevel) != nil else {
            throw ValidationError("invalid --log.level \"\(logLevel)\": use debug, info, warn or error")
        }
        guard WALSyncPolicy(rawValue: walSync) != nil else {
            throw ValidationError("invalid --storage.tsdb.wal-sync \"\(walSync)\": use write or always")
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
