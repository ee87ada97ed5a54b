package import Logging
package import OspreyHTTP
package import OspreyTSDB

/// Everything `osprey serve` is told on its command line.
package struct ServerOptions: Sendable {
    /// The configuration file.
    package var configFile: String = "osprey.yml"
    /// Whether the user named the configuration file (then it must exist).
    package var configFileExplicit = false
    /// The data directory.
    package var storagePath: String = "data"
    /// Host to listen on ("0.0.0.0" for all interfaces).
    package var listenHost: String = "0.0.0.0"
    /// Port to listen on.
    package var listenPort: Int = 9090
    /// Log level.
    package var logLevel: Logger.Level = .info
    /// WAL compression.
    package var walCompression = false
    /// WAL durability policy.
    package var walSyncPolicy: WALSyncPolicy = .write
    /// Block retention by age, ms (`--storage.tsdb.retention.time`).
    package var retentionMs: Int64 = 15 * 24 * 3600 * 1000
    /// Block retention by size, bytes; 0 is none (`--storage.tsdb.retention.size`).
    package var retentionBytes: Int64 = 0
    /// Whether `/api/v1/admin/tsdb/*` is served (`--web.enable-admin-api`).
    package var enableAdminAPI = false
    /// Largest remote-write body.
    package var remoteWriteMaxBodyBytes = 32 << 20
    /// Query limits (`--query.*`).
    package var query = QuerySettings()
    /// Whether Osprey scrapes its own `/metrics` as job `osprey` (`--scrape.self`).
    package var selfMonitoring = true
    /// The OTLP/gRPC listener (`--otlp.grpc-address`); nil turns it off.
    package var otlpGRPCAddress: (host: String, port: Int)? = ("0.0.0.0", 4317)
    /// The OTLP/HTTP listener (`--otlp.http-address`); nil turns it off.
    package var otlpHTTPAddress: (host: String, port: Int)? = ("0.0.0.0", 4318)
    /// Largest OTLP message, after decompression (`--otlp.max-message-bytes`).
    package var otlpMaxMessageBytes = 20 << 20
    /// Most spans the query APIs return per trace (`--traces.max-spans-per-trace`).
    package var traceMaxSpansPerTrace = 100_000
    /// The Zipkin collector listener (`--zipkin.address`); nil (the default) turns it off.
    package var zipkinAddress: (host: String, port: Int)?
    /// Trace blocks older than this are deleted, ms (`--traces.retention.time`).
    package var traceRetentionMs: Int64 = 7 * 24 * 3600 * 1000
    /// Oldest trace blocks are deleted while all take more, bytes; 0 is none (`--traces.retention.size`).
    package var traceRetentionBytes: Int64 = 0
    /// How long the trace head collects spans before it is written as a block, ms (`--traces.block-duration`).
    package var traceBlockDurationMs: Int64 = 15 * 60 * 1000

    /// Defaults.
    package init() {}

    /// Parses `host:port`, `:port` or `[v6]:port` into host and port.
    package static func parseListenAddress(_ text: String) -> (host: String, port: Int)? {
        guard let colon = text.lastIndex(of: ":") else { return nil }
        var host = String(text[..<colon])
        guard let port = Int(text[text.index(after: colon)...]), (0...65535).contains(port) else { return nil }
        if host.hasPrefix("[") && host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        if host.isEmpty { host = "0.0.0.0" }
        return (host, port)
    }
}
