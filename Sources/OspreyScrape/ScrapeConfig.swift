package import OspreyModel

/// One `scrape_configs` entry, with Prometheus' fields and defaults (globals already applied).
package struct ScrapeConfig: Hashable, Sendable {
    /// `basic_auth`.
    package struct BasicAuth: Hashable, Sendable {
        package var username: String
        package var password: String
        package init(username: String, password: String) {
            self.username = username
            self.password = password
        }
    }

    /// `authorization` (or the older `bearer_token`): `Authorization: <type> <credentials>`.
    package struct Authorization: Hashable, Sendable {
        package var type: String
        package var credentials: String
        package init(type: String = "Bearer", credentials: String) {
            self.type = type
            self.credentials = credentials
        }
    }

    /// `tls_config`.
    package struct TLSConfig: Hashable, Sendable {
        package var caFile: String?
        package var certFile: String?
        package var keyFile: String?
        package var serverName: String?
        package var insecureSkipVerify = false
        package init() {}
    }

    /// `file_sd_configs` entry.
    package struct FileSDConfig: Hashable, Sendable {
        /// File paths; the last path element may hold `*` wildcards.
        package var files: [String]
        /// How often the files are read again even when no change was seen (default 5m).
        package var refreshIntervalMs: Int64 = 300_000
        package init(files: [String], refreshIntervalMs: Int64 = 300_000) {
            self.files = files
            self.refreshIntervalMs = refreshIntervalMs
        }
    }

    package var jobName: String
    package var scrapeIntervalMs: Int64
    package var scrapeTimeoutMs: Int64
    package var metricsPath = "/metrics"
    package var scheme = "http"
    /// URL query parameters; a target label `__param_<name>` overrides the first value.
    package var params: [String: [String]] = [:]
    package var honorLabels = false
    package var honorTimestamps = true
    package var trackTimestampsStaleness = false
    package var basicAuth: BasicAuth?
    package var authorization: Authorization?
    package var tlsConfig: TLSConfig?
    package var proxyURL: String?
    package var followRedirects = true
    package var enableCompression = true
    /// 0 = no limit, for every limit.
    package var sampleLimit = 0
    package var labelLimit = 0
    package var labelNameLengthLimit = 0
    package var labelValueLengthLimit = 0
    package var targetLimit = 0
    package var bodySizeLimitBytes: Int64 = 0
    package var staticConfigs: [TargetGroup] = []
    package var fileSDConfigs: [FileSDConfig] = []
    package var relabelConfigs: [RelabelRule] = []
    package var metricRelabelConfigs: [RelabelRule] = []
    /// `scrape_protocols`, in order of preference (empty: Prometheus 2.42's `Accept` header).
    package var scrapeProtocols: [ScrapeProtocol] = []
    /// Which metric and label names scraped series may have.
    package var nameValidation: NameValidationScheme = .utf8

    package init(jobName: String, scrapeIntervalMs: Int64 = 60_000, scrapeTimeoutMs: Int64 = 10_000) {
        self.jobName = jobName
        self.scrapeIntervalMs = scrapeIntervalMs
        self.scrapeTimeoutMs = scrapeTimeoutMs
    }
}

/// A group of targets sharing labels, as static and file discovery produce them
/// (`[{targets: [...], labels: {...}}]`).
package struct TargetGroup: Hashable, Sendable {
    /// Target addresses (`host:port`), each becoming `__address__`.
    package var targets: [String]
    /// Labels of every target of the group (with `__meta_*` labels from discovery).
    package var labels: Labels
    /// Where the group came from (for logs and the targets API), e.g. `file.json:0`.
    package var source: String

    package init(targets: [String], labels: Labels = .empty, source: String = "") {
        self.targets = targets
        self.labels = labels
        self.source = source
    }
}
