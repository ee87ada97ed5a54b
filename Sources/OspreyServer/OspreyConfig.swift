import Foundation
package import OspreyIngest
package import OspreyModel
package import OspreyScrape
import Yams

/// The contents of `osprey.yml`: the prometheus.yml sections Osprey understands today.
package struct OspreyConfig: Hashable, Sendable {
    /// `global:` — defaults shared by every section.
    package struct Global: Hashable, Sendable {
        /// Default scrape interval (ms), Prometheus' default 1m.
        package var scrapeIntervalMs: Int64 = 60_000
        /// Default scrape timeout (ms), Prometheus' default 10s.
        package var scrapeTimeoutMs: Int64 = 10_000
        /// Default rule evaluation interval (ms), Prometheus' default 1m.
        package var evaluationIntervalMs: Int64 = 60_000
        /// Labels added to data leaving Osprey (remote write, alerts, federation).
        package var externalLabels: Labels = .empty
        /// Which metric and label names are accepted on ingest.
        package var metricNameValidationScheme: NameValidationScheme = .utf8
        /// `scrape_protocols` for jobs that do not set their own (empty: Prometheus 2.42's
        /// `Accept` header).
        package var scrapeProtocols: [ScrapeProtocol] = []
    }

    /// `storage:` — engine settings.
    package struct Storage: Hashable, Sendable {
        /// `storage.tsdb.out_of_order_time_window` in ms (0 = off).
        package var outOfOrderTimeWindowMs: Int64 = 0
    }

    /// Global defaults.
    package var global = Global()
    /// Storage settings.
    package var storage = Storage()
    /// `scrape_configs`, with `global`'s defaults applied.
    package var scrapeConfigs: [ScrapeConfig] = []
    /// `otlp`: how OTLP metrics become Prometheus series.
    package var otlp = OTLPOptions()

    /// The defaults used when no configuration file exists.
    package init() {}

    /// Loads and validates `path`; every error names the file, the line and the key.
    package static func load(path: String) throws(ConfigError) -> OspreyConfig {
        let text: String
        do {
            text = try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw ConfigError(file: path, line: nil, key: nil, message: "cannot read the configuration file: \(error.localizedDescription)")
        }
        return try parse(text, file: path)
    }

    /// Parses YAML text; `file` names the source in errors.
    package static func parse(_ text: String, file: String) throws(ConfigError) -> OspreyConfig {
        let root: Node?
        do {
            root = try Yams.compose(yaml: text)
        } catch let error as YamlError {
            throw ConfigError(file: file, line: yamlLine(error), key: nil, message: "invalid YAML: \(yamlProblem(error))")
        } catch {
            throw ConfigError(file: file, line: nil, key: nil, message: "invalid YAML: \(error)")
        }
        var config = OspreyConfig()
        guard let root else { return config }
        if case .scalar(let scalar) = root, scalar.string.isEmpty { return config }
        let top = try YAMLNodeReader(file: file, node: root, path: "").mapping(
            allowed: ["global", "storage", "scrape_configs", "otlp"], unsupported: unsupportedSections)
        if let global = top["global"] { config.global = try parseGlobal(global) }
        if let storage = top["storage"] { config.storage = try parseStorage(storage) }
        if let otlp = top["otlp"], !isNull(otlp) { config.otlp = try parseOTLP(otlp, global: config.global) }
        if let scrape = top["scrape_configs"], !isNull(scrape) { config.scrapeConfigs = try parseScrapeConfigs(scrape, global: config.global) }
        return config
    }

    private static let unsupportedSections: [String: String] = Dictionary(uniqueKeysWithValues: [
        "scrape_config_files", "rule_files", "alerting", "remote_write", "remote_read",
        "tracing", "runtime",
    ].map { ($0, "this section is not supported by this version of Osprey yet; remove it") })

    private static func parseGlobal(_ node: YAMLNodeReader) throws(ConfigError) -> Global {
        var global = Global()
        let fields = try node.mapping(allowed: [
            "scrape_interval", "scrape_timeout", "evaluation_interval", "external_labels",
            "metric_name_validation_scheme", "scrape_protocols",
        ])
        if let value = fields["scrape_interval"] { global.scrapeIntervalMs = try value.durationMs(parse: positiveDuration) }
        if let value = fields["scrape_timeout"] { global.scrapeTimeoutMs = try value.durationMs(parse: positiveDuration) }
        if let value = fields["evaluation_interval"] { global.evaluationIntervalMs = try value.durationMs(parse: positiveDuration) }
        if let value = fields["scrape_protocols"] { global.scrapeProtocols = try parseScrapeProtocols(value) }
        if let value = fields["metric_name_validation_scheme"] {
            let text = try value.scalar()
            guard let scheme = NameValidationScheme(rawValue: text) else {
                throw value.error("invalid value \"\(text)\" (use utf8 or legacy)")
            }
            global.metricNameValidationScheme = scheme
        }
        if let value = fields["external_labels"] {
            var labels: [Label] = []
            for (name, text, line) in try value.stringMap() {
                guard global.metricNameValidationScheme.isValidLabelName(name), !name.hasPrefix("__") else {
                    throw ConfigError(file: value.file, line: line, key: "\(value.path).\(name)", message: "invalid label name")
                }
                labels.append(Label(name: name, value: text))
            }
            global.externalLabels = Labels(sorting: labels)
        }
        if fields["scrape_timeout"] == nil {
            // As in Prometheus: the default timeout (10s) is capped at a shorter interval.
            global.scrapeTimeoutMs = min(global.scrapeTimeoutMs, global.scrapeIntervalMs)
        }
        if global.scrapeTimeoutMs > global.scrapeIntervalMs {
            throw ConfigError(file: node.file, line: fields["scrape_timeout"]?.line, key: "global.scrape_timeout",
                              message: "scrape timeout greater than scrape interval")
        }
        return global
    }

    private static func parseStorage(_ node: YAMLNodeReader) throws(ConfigError) -> Storage {
        var storage = Storage()
        let fields = try node.mapping(allowed: ["tsdb"], unsupported: ["exemplars": "exemplar storage is not configurable in this version of Osprey yet"])
        if let tsdb = fields["tsdb"] {
            let tsdbFields = try tsdb.mapping(allowed: ["out_of_order_time_window"])
            if let value = tsdbFields["out_of_order_time_window"] {
                storage.outOfOrderTimeWindowMs = try value.durationMs(parse: PrometheusDuration.parseMilliseconds)
            }
        }
        return storage
    }

    private static func isNull(_ node: YAMLNodeReader) -> Bool {
        if case .scalar(let scalar) = node.node { return scalar.string.isEmpty || scalar.string == "null" || scalar.string == "~" }
        return false
    }

    private static func positiveDuration(_ text: String) -> Int64? {
        guard let value = PrometheusDuration.parseMilliseconds(text), value > 0 else { return nil }
        return value
    }

    private static func yamlLine(_ error: YamlError) -> Int? {
        switch error {
        case .scanner(_, _, let mark, _), .parser(_, _, let mark, _), .composer(_, _, let mark, _):
            return mark.line
        default:
            return nil
        }
    }

    private static func yamlProblem(_ error: YamlError) -> String {
        switch error {
        case .scanner(_, let problem, _, _), .parser(_, let problem, _, _), .composer(_, let problem, _, _):
            return problem
        default:
            return "\(error)"
        }
    }
}
