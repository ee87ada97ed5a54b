import Foundation
package import OspreyModel

/// A target to scrape: its labels after relabelling (internal `__` labels included), the
/// labels discovery gave it, and what the scrape loop needs from them.
package struct ScrapeTarget: Hashable, Sendable {
    /// Labels after relabelling, with internal labels (`__address__`, `__scheme__`, …).
    package var labels: Labels
    /// Labels before relabelling (discovered labels), as the targets API shows them.
    package var discoveredLabels: Labels
    package var scrapeIntervalMs: Int64
    package var scrapeTimeoutMs: Int64

    /// The labels attached to every scraped sample: all labels without the `__` prefix.
    package var publicLabels: Labels {
        Labels(sortedUnchecked: labels.labels.filter { !$0.name.hasPrefix("__") })
    }

    /// `__address__`.
    package var address: String { labels["__address__"] ?? "" }

    /// The URL scraped: scheme, address, metrics path and parameters (`__param_<name>` labels
    /// replace the first value of a configured parameter or add one).
    package func url(params configured: [String: [String]]) -> String {
        var params = configured
        for label in labels.labels where label.name.hasPrefix("__param_") {
            let name = String(label.name.dropFirst("__param_".count))
            if var values = params[name], !values.isEmpty {
                values[0] = label.value
                params[name] = values
            } else {
                params[name] = [label.value]
            }
        }
        var path = labels["__metrics_path__"] ?? "/metrics"
        if !path.hasPrefix("/") { path = "/" + path }
        var url = "\(labels["__scheme__"] ?? "http")://\(address)\(path)"
        if !params.isEmpty {
            let query = params.keys.sorted().flatMap { name in params[name, default: []].map { Self.queryEscape(name) + "=" + Self.queryEscape($0) } }
            url += (path.contains("?") ? "&" : "?") + query.joined(separator: "&")
        }
        return url
    }

    /// Go's `url.QueryEscape`.
    static func queryEscape(_ text: String) -> String {
        var out = ""
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
                 UInt8(ascii: "-"), UInt8(ascii: "_"), UInt8(ascii: "."), UInt8(ascii: "~"):
                out.unicodeScalars.append(Unicode.Scalar(byte))
            case UInt8(ascii: " "):
                out += "+"
            default:
                out += String(format: "%%%02X", byte)
            }
        }
        return out
    }
}

/// Why discovery's target did not become a scrape target.
package enum TargetOutcome: Hashable, Sendable {
    /// Scraped.
    case active(ScrapeTarget)
    /// Dropped by relabelling; the discovered labels are kept for the targets API.
    case dropped(discoveredLabels: Labels)
    /// Invalid after relabelling (no address, bad interval, …).
    case invalid(discoveredLabels: Labels, reason: String)
}

extension ScrapeTarget {
    /// The targets of `group` under `config`, as Prometheus' `targetsFromGroup` and
    /// `PopulateLabels` make them: the target's own labels over the group's, the job's
    /// defaults (`job`, `__scheme__`, `__metrics_path__`, `__scrape_interval__`,
    /// `__scrape_timeout__`, `__param_*`), `relabel_configs`, a default port for the scheme,
    /// `__meta_*` labels removed and `instance` defaulting to the address.
    package static func targets(from group: TargetGroup, config: ScrapeConfig) -> [TargetOutcome] {
        group.targets.map { address in
            var builder = LabelsBuilder(group.labels)
            builder.set("__address__", address)
            return populate(builder.labels(), config: config)
        }
    }

    /// One target's labels through the job's defaults and relabelling.
    package static func populate(_ base: Labels, config: ScrapeConfig) -> TargetOutcome {
        var builder = LabelsBuilder(base)
        let defaults: [(String, String)] = [
            ("job", config.jobName),
            ("__scrape_interval__", PrometheusDuration.format(milliseconds: config.scrapeIntervalMs)),
            ("__scrape_timeout__", PrometheusDuration.format(milliseconds: config.scrapeTimeoutMs)),
            ("__metrics_path__", config.metricsPath),
            ("__scheme__", config.scheme),
        ]
        for (name, value) in defaults where (base[name] ?? "").isEmpty {
            builder.set(name, value)
        }
        for (name, values) in config.params {
            if let first = values.first { builder.set("__param_" + name, first) }
        }
        let discovered = builder.labels()
        guard let relabelled = RelabelRule.process(discovered, rules: config.relabelConfigs) else {
            return .dropped(discoveredLabels: discovered)
        }
        func invalid(_ reason: String) -> TargetOutcome { .invalid(discoveredLabels: discovered, reason: reason) }
        guard var address = relabelled["__address__"], !address.isEmpty else { return invalid("no address") }
        var result = LabelsBuilder(relabelled)
        if needsPort(address) {
            switch relabelled["__scheme__"] ?? "" {
            case "http", "": address += ":80"
            case "https": address += ":443"
            case let scheme: return invalid("invalid scheme: \"\(scheme)\"")
            }
            result.set("__address__", address)
        }
        if address.contains("/") { return invalid("\"\(address)\" is not a valid hostname") }
        let intervalText = relabelled["__scrape_interval__"] ?? ""
        guard let interval = PrometheusDuration.parseMilliseconds(intervalText) else {
            return invalid("error parsing scrape interval: not a valid duration string: \"\(intervalText)\"")
        }
        guard interval > 0 else { return invalid("scrape interval cannot be 0") }
        let timeoutText = relabelled["__scrape_timeout__"] ?? ""
        guard let timeout = PrometheusDuration.parseMilliseconds(timeoutText) else {
            return invalid("error parsing scrape timeout: not a valid duration string: \"\(timeoutText)\"")
        }
        guard timeout > 0 else { return invalid("scrape timeout cannot be 0") }
        guard timeout <= interval else {
            return invalid("scrape timeout cannot be greater than scrape interval (\"\(timeoutText)\" > \"\(intervalText)\")")
        }
        for label in relabelled.labels where label.name.hasPrefix("__meta_") {
            result.delete(label.name)
        }
        if (relabelled["instance"] ?? "").isEmpty { result.set("instance", address) }
        let labels = result.labels()
        return .active(ScrapeTarget(labels: labels, discoveredLabels: discovered, scrapeIntervalMs: interval, scrapeTimeoutMs: timeout))
    }

    /// Whether Go's `net.SplitHostPort` rejects `address` but accepts it with a port added.
    static func needsPort(_ address: String) -> Bool {
        !splitsIntoHostPort(address) && splitsIntoHostPort(address + ":1234")
    }

    /// Go's `net.SplitHostPort` succeeding: `host:port` or `[host]:port`, one colon outside
    /// brackets.
    static func splitsIntoHostPort(_ text: String) -> Bool {
        guard let colon = text.lastIndex(of: ":") else { return false }
        let host = text[..<colon]
        if host.hasPrefix("[") {
            guard let close = host.firstIndex(of: "]"), host.index(after: close) == host.endIndex else { return false }
            return !host[host.index(after: host.startIndex)..<close].contains("[")
        }
        return !host.contains(":") && !host.contains("[") && !host.contains("]") && !text[text.index(after: colon)...].contains("]")
    }
}
