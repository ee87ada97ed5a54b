import Foundation
import OspreyModel
import OspreyScrape
import Yams

extension OspreyConfig {
    /// `scrape_configs`, with Prometheus' defaults from `global`.
    static func parseScrapeConfigs(_ node: YAMLNodeReader, global: Global) throws(ConfigError) -> [ScrapeConfig] {
        guard case .sequence(let items) = node.node else {
            throw node.error("expected a list of scrape configs")
        }
        var out: [ScrapeConfig] = []
        var names: Set<String> = []
        for (index, item) in items.enumerated() {
            let reader = YAMLNodeReader(file: node.file, node: item, path: "\(node.path)[\(index)]")
            let config = try parseScrapeConfig(reader, global: global)
            guard names.insert(config.jobName).inserted else {
                throw reader.error("found multiple scrape configs with job name \"\(config.jobName)\"")
            }
            out.append(config)
        }
        return out
    }

    private static let unsupportedDiscovery: [String: String] = Dictionary(uniqueKeysWithValues: [
        "kubernetes_sd_configs", "consul_sd_configs", "dns_sd_configs", "ec2_sd_configs", "azure_sd_configs", "gce_sd_configs",
        "docker_sd_configs", "dockerswarm_sd_configs", "http_sd_configs", "openstack_sd_configs", "digitalocean_sd_configs",
        "eureka_sd_configs", "hetzner_sd_configs", "kuma_sd_configs", "lightsail_sd_configs", "linode_sd_configs",
        "marathon_sd_configs", "nerve_sd_configs", "nomad_sd_configs", "serverset_sd_configs", "triton_sd_configs",
        "uyuni_sd_configs", "vultr_sd_configs", "scaleway_sd_configs", "puppetdb_sd_configs", "ionos_sd_configs", "ovhcloud_sd_configs",
    ].map { ($0, "this service discovery is not supported by Osprey; use static_configs or file_sd_configs") })
        .merging(["oauth2": "oauth2 is not supported by Osprey; use authorization or basic_auth"]) { $1 }

    private static func parseScrapeConfig(_ node: YAMLNodeReader, global: Global) throws(ConfigError) -> ScrapeConfig {
        let fields = try node.mapping(allowed: [
            "job_name", "scrape_interval", "scrape_timeout", "metrics_path", "scheme", "params", "honor_labels", "honor_timestamps",
            "track_timestamps_staleness", "basic_auth", "authorization", "bearer_token", "bearer_token_file", "tls_config", "proxy_url",
            "no_proxy", "proxy_from_environment", "follow_redirects", "enable_http2", "enable_compression", "sample_limit", "label_limit",
            "label_name_length_limit", "label_value_length_limit", "target_limit", "body_size_limit", "static_configs", "file_sd_configs",
            "relabel_configs", "metric_relabel_configs", "scrape_protocols", "scrape_classic_histograms", "native_histogram_bucket_limit",
            "keep_dropped_targets",
        ], unsupported: unsupportedDiscovery)
        let name = try fields["job_name"]?.scalar() ?? ""
        guard !name.isEmpty else { throw node.error("job_name is empty or missing") }
        var config = ScrapeConfig(jobName: name, scrapeIntervalMs: global.scrapeIntervalMs, scrapeTimeoutMs: global.scrapeTimeoutMs)
        config.nameValidation = global.metricNameValidationScheme
        config.scrapeProtocols = global.scrapeProtocols
        if let value = fields["scrape_interval"] { config.scrapeIntervalMs = try value.durationMs(parse: positive) }
        if let value = fields["scrape_timeout"] {
            config.scrapeTimeoutMs = try value.durationMs(parse: positive)
        } else {
            config.scrapeTimeoutMs = min(global.scrapeTimeoutMs, config.scrapeIntervalMs)
        }
        if config.scrapeTimeoutMs > config.scrapeIntervalMs {
            throw ConfigError(file: node.file, line: fields["scrape_timeout"]?.line ?? node.line, key: "\(node.path).scrape_timeout",
                              message: "scrape timeout greater than scrape interval for scrape config with job name \"\(name)\"")
        }
        if let value = fields["metrics_path"] { config.metricsPath = try value.scalar() }
        if let value = fields["scheme"] {
            let scheme = try value.scalar()
            guard scheme == "http" || scheme == "https" else { throw value.error("invalid scheme \"\(scheme)\" (use http or https)") }
            config.scheme = scheme
        }
        if let value = fields["params"] { config.params = try stringListMap(value) }
        if let value = fields["honor_labels"] { config.honorLabels = try value.bool() }
        if let value = fields["honor_timestamps"] { config.honorTimestamps = try value.bool() }
        if let value = fields["track_timestamps_staleness"] { config.trackTimestampsStaleness = try value.bool() }
        if let value = fields["follow_redirects"] { config.followRedirects = try value.bool() }
        if let value = fields["enable_compression"] { config.enableCompression = try value.bool() }
        if let value = fields["enable_http2"] { _ = try value.bool() }
        if let value = fields["proxy_url"] {
            let text = try value.scalar()
            guard let url = URL(string: text), url.scheme == "http", url.host != nil else {
                throw value.error("invalid proxy_url \"\(text)\" (use http://host:port)")
            }
            config.proxyURL = text
        }
        if fields["no_proxy"] != nil || fields["proxy_from_environment"] != nil {
            throw node.error("no_proxy and proxy_from_environment are not supported by Osprey; set proxy_url", key: "\(node.path).no_proxy")
        }
        for (key, keyPath) in [("sample_limit", \ScrapeConfig.sampleLimit), ("label_limit", \.labelLimit), ("label_name_length_limit", \.labelNameLengthLimit),
                               ("label_value_length_limit", \.labelValueLengthLimit), ("target_limit", \.targetLimit)] {
            if let value = fields[key] { config[keyPath: keyPath] = try nonNegative(value) }
        }
        if let value = fields["body_size_limit"] {
            let text = try value.scalar()
            guard let bytes = parseBase2Bytes(text) else { throw value.error("invalid size \"\(text)\" (use e.g. 10MB or 512KiB)") }
            config.bodySizeLimitBytes = bytes
        }
        try parseAuthentication(fields, node: node, into: &config)
        if let value = fields["tls_config"] { config.tlsConfig = try parseTLS(value) }
        if let value = fields["static_configs"] { config.staticConfigs = try parseStaticConfigs(value, nameValidation: global.metricNameValidationScheme) }
        if let value = fields["file_sd_configs"] { config.fileSDConfigs = try parseFileSDConfigs(value) }
        if let value = fields["relabel_configs"] { config.relabelConfigs = try parseRelabelConfigs(value, nameValidation: global.metricNameValidationScheme) }
        if let value = fields["metric_relabel_configs"] { config.metricRelabelConfigs = try parseRelabelConfigs(value, nameValidation: global.metricNameValidationScheme) }
        if let value = fields["scrape_protocols"] { config.scrapeProtocols = try parseScrapeProtocols(value) }
        return config
    }

    /// `scrape_protocols`: a non-empty list of known protocols, each at most once.
    static func parseScrapeProtocols(_ value: YAMLNodeReader) throws(ConfigError) -> [ScrapeProtocol] {
        guard case .sequence(let protocols) = value.node else { throw value.error("expected a list of protocols") }
        guard !protocols.isEmpty else { throw value.error("scrape_protocols cannot be empty") }
        var chosen: [ScrapeProtocol] = []
        for item in protocols {
            guard let known = ScrapeProtocol(rawValue: item.string ?? "") else {
                let names = ScrapeProtocol.allCases.map(\.rawValue).joined(separator: ", ")
                throw ConfigError(file: value.file, line: item.mark?.line, key: value.path, message: "unknown scrape protocol \"\(item.string ?? "")\", supported: \(names)")
            }
            guard !chosen.contains(known) else {
                throw ConfigError(file: value.file, line: item.mark?.line, key: value.path, message: "duplicated protocol in scrape_protocols: \(known.rawValue)")
            }
            chosen.append(known)
        }
        return chosen
    }

    private static func parseAuthentication(_ fields: [String: YAMLNodeReader], node: YAMLNodeReader, into config: inout ScrapeConfig) throws(ConfigError) {
        let present = ["basic_auth", "authorization", "bearer_token", "bearer_token_file"].filter { fields[$0] != nil }
        if present.count > 1 && !(present.count == 2 && present.contains("bearer_token") && present.contains("bearer_token_file")) {
            throw node.error("at most one of basic_auth, oauth2, bearer_token & bearer_token_file must be configured")
        }
        if fields["bearer_token"] != nil && fields["bearer_token_file"] != nil {
            throw node.error("at most one of bearer_token & bearer_token_file must be configured")
        }
        if let value = fields["basic_auth"] {
            let auth = try value.mapping(allowed: ["username", "username_file", "password", "password_file"])
            var username = try auth["username"]?.scalar() ?? ""
            if let file = auth["username_file"] { username = try readSecret(file) }
            var password = try auth["password"]?.scalar() ?? ""
            if auth["password"] != nil && auth["password_file"] != nil { throw value.error("at most one of basic_auth password & password_file must be configured") }
            if let file = auth["password_file"] { password = try readSecret(file) }
            config.basicAuth = ScrapeConfig.BasicAuth(username: username, password: password)
        }
        if let value = fields["authorization"] {
            let auth = try value.mapping(allowed: ["type", "credentials", "credentials_file"])
            let type = try auth["type"]?.scalar() ?? "Bearer"
            if type.lowercased() == "basic" { throw value.error("authorization type cannot be set to \"basic\", use \"basic_auth\" instead") }
            if auth["credentials"] != nil && auth["credentials_file"] != nil { throw value.error("at most one of authorization credentials & credentials_file must be configured") }
            var credentials = try auth["credentials"]?.scalar() ?? ""
            if let file = auth["credentials_file"] { credentials = try readSecret(file) }
            config.authorization = ScrapeConfig.Authorization(type: type.isEmpty ? "Bearer" : type, credentials: credentials)
        }
        if let value = fields["bearer_token"] { config.authorization = ScrapeConfig.Authorization(credentials: try value.scalar()) }
        if let value = fields["bearer_token_file"] { config.authorization = ScrapeConfig.Authorization(credentials: try readSecret(value)) }
    }

    private static func readSecret(_ node: YAMLNodeReader) throws(ConfigError) -> String {
        let path = try node.scalar()
        do {
            return try String(contentsOfFile: path, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
        } catch {
            throw node.error("cannot read \(path): \(error.localizedDescription)")
        }
    }

    private static func parseTLS(_ node: YAMLNodeReader) throws(ConfigError) -> ScrapeConfig.TLSConfig {
        let fields = try node.mapping(allowed: ["ca_file", "cert_file", "key_file", "server_name", "insecure_skip_verify", "min_version", "max_version", "ca", "cert", "key"])
        var tls = ScrapeConfig.TLSConfig()
        tls.caFile = try fields["ca_file"]?.scalar()
        tls.certFile = try fields["cert_file"]?.scalar()
        tls.keyFile = try fields["key_file"]?.scalar()
        tls.serverName = try fields["server_name"]?.scalar()
        if let value = fields["insecure_skip_verify"] { tls.insecureSkipVerify = try value.bool() }
        if (tls.certFile == nil) != (tls.keyFile == nil) {
            throw node.error("exactly one of key and cert file specified; both are needed for a client certificate")
        }
        for key in ["ca", "cert", "key"] where fields[key] != nil {
            throw ConfigError(file: node.file, line: fields[key]?.line, key: "\(node.path).\(key)", message: "inline certificates are not supported by Osprey; use \(key)_file")
        }
        for file in [tls.caFile, tls.certFile, tls.keyFile].compactMap({ $0 }) where !FileManager.default.isReadableFile(atPath: file) {
            throw node.error("cannot read \(file)")
        }
        return tls
    }

    private static func parseStaticConfigs(_ node: YAMLNodeReader, nameValidation: NameValidationScheme) throws(ConfigError) -> [TargetGroup] {
        guard case .sequence(let items) = node.node else { throw node.error("expected a list of {targets, labels}") }
        var out: [TargetGroup] = []
        for (index, item) in items.enumerated() {
            let reader = YAMLNodeReader(file: node.file, node: item, path: "\(node.path)[\(index)]")
            let fields = try reader.mapping(allowed: ["targets", "labels"])
            var targets: [String] = []
            if let list = fields["targets"] {
                guard case .sequence(let entries) = list.node else { throw list.error("expected a list of host:port addresses") }
                for entry in entries {
                    guard case .scalar(let scalar) = entry else { throw list.error("expected host:port strings") }
                    guard !scalar.string.contains("/") else {
                        throw ConfigError(file: node.file, line: entry.mark?.line, key: list.path, message: "\"\(scalar.string)\" is not a valid hostname")
                    }
                    targets.append(scalar.string)
                }
            }
            var labels: [Label] = []
            if let map = fields["labels"] {
                for (name, value, line) in try map.stringMap() {
                    guard nameValidation.isValidLabelName(name) else {
                        throw ConfigError(file: node.file, line: line, key: "\(map.path).\(name)", message: "\"\(name)\" is not a valid label name")
                    }
                    labels.append(Label(name: name, value: value))
                }
            }
            out.append(TargetGroup(targets: targets, labels: Labels(sorting: labels), source: "\(index)"))
        }
        return out
    }

    private static func parseFileSDConfigs(_ node: YAMLNodeReader) throws(ConfigError) -> [ScrapeConfig.FileSDConfig] {
        guard case .sequence(let items) = node.node else { throw node.error("expected a list of {files, refresh_interval}") }
        var out: [ScrapeConfig.FileSDConfig] = []
        for (index, item) in items.enumerated() {
            let reader = YAMLNodeReader(file: node.file, node: item, path: "\(node.path)[\(index)]")
            let fields = try reader.mapping(allowed: ["files", "refresh_interval"])
            guard let list = fields["files"], case .sequence(let entries) = list.node, !entries.isEmpty else {
                throw reader.error("file service discovery config must contain at least one path name")
            }
            var files: [String] = []
            for entry in entries {
                let path = entry.string ?? ""
                let name = (path as NSString).lastPathComponent
                guard path.hasSuffix(".json") || path.hasSuffix(".yml") || path.hasSuffix(".yaml") || name.contains("*") else {
                    throw ConfigError(file: node.file, line: entry.mark?.line, key: list.path, message: "path name \"\(path)\" is not valid for file discovery (use .json, .yml or .yaml)")
                }
                guard !(path as NSString).deletingLastPathComponent.contains("*") else {
                    throw ConfigError(file: node.file, line: entry.mark?.line, key: list.path, message: "path name \"\(path)\" is not valid for file discovery: only the last element may hold wildcards")
                }
                // Relative paths are relative to the configuration file, as in Prometheus.
                files.append(path.hasPrefix("/") ? path : ((node.file as NSString).deletingLastPathComponent as NSString).appendingPathComponent(path))
            }
            var config = ScrapeConfig.FileSDConfig(files: files)
            if let value = fields["refresh_interval"] { config.refreshIntervalMs = try value.durationMs(parse: positive) }
            out.append(config)
        }
        return out
    }

    /// `relabel_configs` / `metric_relabel_configs` entries, validated as Prometheus does.
    static func parseRelabelConfigs(_ node: YAMLNodeReader, nameValidation: NameValidationScheme) throws(ConfigError) -> [RelabelRule] {
        guard case .sequence(let items) = node.node else { throw node.error("expected a list of relabel rules") }
        var out: [RelabelRule] = []
        for (index, item) in items.enumerated() {
            let reader = YAMLNodeReader(file: node.file, node: item, path: "\(node.path)[\(index)]")
            let fields = try reader.mapping(allowed: ["source_labels", "separator", "target_label", "regex", "modulus", "replacement", "action"])
            var sources: [String] = []
            if let list = fields["source_labels"] {
                guard case .sequence(let entries) = list.node else { throw list.error("expected a list of label names") }
                sources = entries.map { $0.string ?? "" }
            }
            var action = RelabelRule.Action.replace
            if let value = fields["action"] {
                let text = try value.scalar()
                guard let parsed = RelabelRule.action(named: text) else {
                    throw value.error("unknown relabel action \"\(text)\" (known: \(RelabelRule.Action.allCases.map(\.rawValue).joined(separator: ", ")))")
                }
                action = parsed
            }
            var modulus: UInt64 = 0
            if let value = fields["modulus"] {
                let text = try value.scalar()
                guard let number = UInt64(text) else { throw value.error("invalid modulus \"\(text)\"") }
                modulus = number
            }
            do {
                out.append(try RelabelRule(
                    sourceLabels: sources, separator: try fields["separator"]?.scalar() ?? RelabelRule.defaultSeparator,
                    targetLabel: try fields["target_label"]?.scalar() ?? "", regex: try fields["regex"]?.scalar() ?? RelabelRule.defaultRegexSource,
                    modulus: modulus, replacement: try fields["replacement"]?.scalar() ?? RelabelRule.defaultReplacement, action: action, nameValidation: nameValidation))
            } catch let error as ConfigError {
                throw error
            } catch {
                throw reader.error("\(error)")
            }
        }
        return out
    }

    private static func stringListMap(_ node: YAMLNodeReader) throws(ConfigError) -> [String: [String]] {
        guard case .mapping(let mapping) = node.node else { throw node.error("expected a mapping of names to lists of values") }
        var out: [String: [String]] = [:]
        for (key, value) in mapping {
            guard let name = key.string, case .sequence(let values) = value else {
                throw ConfigError(file: node.file, line: key.mark?.line, key: node.path, message: "expected name: [values]")
            }
            out[name] = values.map { $0.string ?? "" }
        }
        return out
    }

    private static func nonNegative(_ node: YAMLNodeReader) throws(ConfigError) -> Int {
        let text = try node.scalar()
        guard let value = Int(text), value >= 0 else { throw node.error("expected a non-negative integer, got \"\(text)\"") }
        return value
    }

    private static func positive(_ text: String) -> Int64? {
        guard let value = PrometheusDuration.parseMilliseconds(text), value > 0 else { return nil }
        return value
    }

    /// Go's `units.ParseBase2Bytes`: `512`, `10KB`, `10KiB`, `1.5MB`… (powers of 1024).
    static func parseBase2Bytes(_ text: String) -> Int64? {
        let units: [(String, Double)] = [
            ("KiB", 1024), ("MiB", 1_048_576), ("GiB", 1_073_741_824), ("TiB", 1_099_511_627_776),
            ("KB", 1024), ("MB", 1_048_576), ("GB", 1_073_741_824), ("TB", 1_099_511_627_776), ("B", 1),
        ]
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        if trimmed == "0" { return 0 }
        for (unit, factor) in units where trimmed.hasSuffix(unit) {
            guard let number = Double(trimmed.dropLast(unit.count)), number >= 0, number.isFinite else { return nil }
            return Int64(number * factor)
        }
        return Int64(trimmed).flatMap { $0 >= 0 ? $0 : nil }
    }
}
