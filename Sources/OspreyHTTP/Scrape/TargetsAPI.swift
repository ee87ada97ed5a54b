import Foundation
import Hummingbird
import OspreyModel
import OspreyPromQLParser
package import OspreyScrape

/// What the targets and metadata APIs read: the scrape jobs' state.
package protocol ScrapeStatusProvider: Sendable {
    var activeTargets: [ActiveTargetStatus] { get }
    var droppedTargets: [DroppedTargetStatus] { get }
    var scrapePools: [String] { get }
}

extension ScrapeManager: ScrapeStatusProvider {}

/// `/api/v1/targets`, `/api/v1/scrape_pools`, `/api/v1/targets/metadata` and `/api/v1/metadata`,
/// in Prometheus' shapes.
struct TargetsAPI: Sendable {
    let scrape: any ScrapeStatusProvider

    func register(on router: Router<OspreyRequestContext>) {
        router.get("/api/v1/targets") { request, _ in try await handle { try await targets(request) } }
        router.get("/api/v1/scrape_pools") { _, _ in
            APIEnvelope.success { writer in
                writer.object { object in
                    object.field("scrapePools") { writer in writer.array { array in for pool in scrape.scrapePools { array.string(pool) } } }
                }
            }
        }
        router.get("/api/v1/targets/metadata") { request, _ in try await handle { try await targetMetadata(request) } }
        router.get("/api/v1/metadata") { request, _ in try await handle { try await metadata(request) } }
    }

    private func targets(_ request: Request) async throws -> Response {
        let parameters = try await APIParameters.from(request)
        let state = (parameters.first("state") ?? "any").lowercased()
        guard ["active", "dropped", "any", ""].contains(state) else {
            throw APIError(.badData, "invalid state \"\(state)\" (use active, dropped or any)")
        }
        let pool = parameters.first("scrapePool")
        let active = state == "dropped" ? [] : scrape.activeTargets.filter { pool == nil || $0.scrapePool == pool }
        let dropped = state == "active" ? [] : scrape.droppedTargets.filter { pool == nil || $0.scrapePool == pool }
        var droppedCounts: [String: Int] = [:]
        for name in scrape.scrapePools { droppedCounts[name] = 0 }
        for target in scrape.droppedTargets { droppedCounts[target.scrapePool, default: 0] += 1 }
        return APIEnvelope.success { writer in
            writer.object { object in
                object.field("activeTargets") { writer in
                    writer.array { array in
                        for target in active { array.element { writer in Self.write(target, into: &writer) } }
                    }
                }
                object.field("droppedTargets") { writer in
                    writer.array { array in
                        for target in dropped {
                            array.element { writer in
                                writer.object { object in
                                    object.field("discoveredLabels") { writer in Self.write(target.discoveredLabels, into: &writer) }
                                    object.field("scrapePool", target.scrapePool)
                                }
                            }
                        }
                    }
                }
                object.field("droppedTargetCounts") { writer in
                    writer.object { object in
                        for name in droppedCounts.keys.sorted() { object.field(name, raw: String(droppedCounts[name] ?? 0)) }
                    }
                }
            }
        }
    }

    private static func write(_ target: ActiveTargetStatus, into writer: inout JSONWriter) {
        writer.object { object in
            object.field("discoveredLabels") { writer in write(target.target.discoveredLabels, into: &writer) }
            object.field("labels") { writer in write(target.target.publicLabels, into: &writer) }
            object.field("scrapePool", target.scrapePool)
            object.field("scrapeUrl", target.scrapeURL)
            object.field("globalUrl", globalURL(target.scrapeURL))
            object.field("lastError", target.health.lastError)
            object.field("lastScrape", rfc3339(target.health.lastScrapeMs))
            object.field("lastScrapeDuration", raw: GoFloatFormat.g(target.health.lastScrapeDurationSeconds))
            object.field("health", target.health.state.rawValue)
            object.field("scrapeInterval", PrometheusDuration.format(milliseconds: target.target.scrapeIntervalMs))
            object.field("scrapeTimeout", PrometheusDuration.format(milliseconds: target.target.scrapeTimeoutMs))
        }
    }

    private static func write(_ labels: Labels, into writer: inout JSONWriter) {
        writer.object { object in
            for label in labels { object.field(label.name, label.value) }
        }
    }

    /// The URL with a loopback host replaced by this machine's name, as Prometheus reports it.
    private static func globalURL(_ url: String) -> String {
        guard var components = URLComponents(string: url), let host = components.host,
              ["localhost", "127.0.0.1", "::1", "[::1]"].contains(host) else { return url }
        components.host = ProcessInfo.processInfo.hostName
        return components.string ?? url
    }

    private static func rfc3339(_ ms: Int64) -> String {
        guard ms > 0 else { return "0001-01-01T00:00:00Z" }
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return formatter.string(from: Date(timeIntervalSince1970: Double(ms) / 1000))
    }

    private func targetMetadata(_ request: Request) async throws -> Response {
        let parameters = try await APIParameters.from(request)
        var matchers: [LabelMatcher] = []
        if let selector = parameters.first("match_target"), !selector.isEmpty {
            do {
                matchers = try SeriesSelectorParser.parse(selector)
            } catch {
                throw APIError(.badData, "invalid match_target \"\(selector)\": \(error)")
            }
        }
        let metric = parameters.first("metric")
        let limit = try Self.limit(parameters.first("limit"))
        var rows: [(Labels, String, MetricMetadata)] = []
        for target in scrape.activeTargets where matchers.allSatisfy({ $0.matches(target.target.publicLabels[$0.name] ?? "") }) {
            for family in target.health.metadata.keys.sorted() where metric == nil || metric == family {
                if let meta = target.health.metadata[family] { rows.append((target.target.publicLabels, family, meta)) }
            }
        }
        if let limit, rows.count > limit { rows.removeLast(rows.count - limit) }
        return APIEnvelope.success { writer in
            writer.array { array in
                for (labels, family, meta) in rows {
                    array.element { writer in
                        writer.object { object in
                            object.field("target") { writer in Self.write(labels, into: &writer) }
                            object.field("metric", family)
                            object.field("type", meta.type.rawValue)
                            object.field("help", meta.help)
                            object.field("unit", meta.unit)
                        }
                    }
                }
            }
        }
    }

    private func metadata(_ request: Request) async throws -> Response {
        let parameters = try await APIParameters.from(request)
        let metric = parameters.first("metric")
        let limit = try Self.limit(parameters.first("limit"))
        let perMetric = try Self.limit(parameters.first("limit_per_metric"))
        var byFamily: [String: [MetricMetadata]] = [:]
        for target in scrape.activeTargets {
            for (family, meta) in target.health.metadata where metric == nil || metric == family {
                if !(byFamily[family]?.contains(meta) ?? false) { byFamily[family, default: []].append(meta) }
            }
        }
        var families = byFamily.keys.sorted()
        if let limit, families.count > limit { families.removeLast(families.count - limit) }
        return APIEnvelope.success { writer in
            writer.object { object in
                for family in families {
                    var entries = byFamily[family] ?? []
                    if let perMetric, entries.count > perMetric { entries.removeLast(entries.count - perMetric) }
                    object.field(family) { writer in
                        writer.array { array in
                            for meta in entries {
                                array.element { writer in
                                    writer.object { object in
                                        object.field("type", meta.type.rawValue)
                                        object.field("help", meta.help)
                                        object.field("unit", meta.unit)
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    /// A `limit` parameter: absent, or a number (0 or negative = none, as Prometheus reads it).
    private static func limit(_ text: String?) throws -> Int? {
        guard let text, !text.isEmpty else { return nil }
        guard let value = Int(text) else { throw APIError(.badData, "invalid limit \"\(text)\": not a number") }
        return value > 0 ? value : nil
    }
}
