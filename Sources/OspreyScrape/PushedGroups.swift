#if canImport(Glibc)
import Glibc
#endif
import Foundation
package import Logging
package import OspreyIngest
package import OspreyModel
package import OspreyStorage

/// Pushgateway-style groups (`PUT`/`POST`/`DELETE /metrics/job/<job>{/<label>/<value>}`),
/// stored as if a Pushgateway were scraped with `honor_labels: true`: each group's samples are
/// appended at once and again every interval with the time of appending, with the grouping
/// labels, `push_time_seconds` and `push_failure_time_seconds`. A `PUT` replaces the group (its
/// vanished series get staleness markers at once), a `POST` replaces only the pushed metric
/// families, a `DELETE` marks all the group's series stale. Groups survive restarts in a file.
package actor PushedGroups {
    /// `PUT` replaces the whole group; `POST` only the families it pushes.
    package enum Mode: Sendable { case replace, merge }

    private struct Family: Codable {
        var type: String
        var help: String
        /// Sample lines in the text format, grouping labels applied.
        var lines: [String]
    }

    private struct Group {
        var labels: Labels
        var families: [String: Family]
        var pushTimeSeconds: Double
        var failureTimeSeconds: Double
        var cache: TargetSeriesCache
    }

    private struct StoredGroup: Codable {
        var labels: [String: String]
        var families: [String: Family]
        var pushTimeSeconds: Double
        var failureTimeSeconds: Double
    }

    private let appendable: any MetricAppendable
    private let intervalMs: Int64
    private let persistencePath: String?
    private let logger: Logger
    private var groups: [Labels: Group] = [:]

    package init(appendable: any MetricAppendable, intervalMs: Int64, persistencePath: String?, logger: Logger) {
        self.appendable = appendable
        self.intervalMs = intervalMs
        self.persistencePath = persistencePath
        self.logger = logger
    }

    /// Stores a push; throws a 400-class error (nothing changes but the group's failure time).
    package func push(grouping: Labels, body: [UInt8], contentType: String, mode: Mode) async throws(IngestError) {
        let nowSeconds = Date().timeIntervalSince1970
        let pushed: [String: Family]
        do {
            pushed = try parse(body, contentType: contentType, grouping: grouping)
        } catch {
            groups[grouping]?.failureTimeSeconds = nowSeconds
            throw error
        }
        var families = mode == .replace ? [:] : (groups[grouping]?.families ?? [:])
        for (name, family) in pushed { families[name] = family }
        groups[grouping, default: Group(labels: grouping, families: [:], pushTimeSeconds: 0, failureTimeSeconds: 0, cache: makeCache(grouping))].families = families
        groups[grouping]?.pushTimeSeconds = nowSeconds
        await append(grouping)
        persist()
    }

    /// Deletes a group; its series go stale at once. Deleting an unknown group is no error.
    package func delete(grouping: Labels) async {
        guard let group = groups.removeValue(forKey: grouping) else { return }
        await Self.store(nil, cache: group.cache, appendable: appendable, logger: logger, group: grouping)
        persist()
    }

    /// The groups' labels, sorted.
    package var groupLabels: [Labels] { groups.keys.sorted() }

    /// Loads the persisted groups and appends them every interval until cancelled.
    package func run() async {
        restore()
        for key in groups.keys.sorted() { await append(key) }
        while !Task.isCancelled {
            do {
                try await Task.sleep(for: .milliseconds(intervalMs))
            } catch {
                return
            }
            for key in groups.keys.sorted() { await append(key) }
        }
    }

    // MARK: - Appending

    private func makeCache(_ grouping: Labels) -> TargetSeriesCache {
        var rules = ScrapeRules()
        rules.honorLabels = true
        return TargetSeriesCache(targetLabels: grouping, rules: rules)
    }

    private func append(_ key: Labels) async {
        guard let group = groups[key] else { return }
        var text = ""
        for name in group.families.keys.sorted() {
            guard let family = group.families[name] else { continue }
            if !family.help.isEmpty { text += "# HELP \(name) \(Self.escapeHelp(family.help))\n" }
            text += "# TYPE \(name) \(family.type)\n"
            for line in family.lines { text += line + "\n" }
        }
        let groupText = group.labels.labels.map { "\($0.name)=\"\(Self.escapeValue($0.value))\"" }.joined(separator: ",")
        text += "# HELP push_time_seconds Last Unix time when changing this group in the Pushgateway succeeded.\n# TYPE push_time_seconds gauge\n"
        text += "push_time_seconds{\(groupText)} \(group.pushTimeSeconds)\n"
        text += "# HELP push_failure_time_seconds Last Unix time when changing this group in the Pushgateway failed.\n# TYPE push_failure_time_seconds gauge\n"
        text += "push_failure_time_seconds{\(groupText)} \(group.failureTimeSeconds)\n"
        await Self.store(Array(text.utf8), cache: group.cache, appendable: appendable, logger: logger, group: key)
    }

    /// Appends a group's exposition (or, for nil, staleness markers for all its series) and
    /// commits; outside the actor, so the appender stays in one isolation domain.
    private nonisolated static func store(_ text: [UInt8]?, cache: TargetSeriesCache, appendable: any MetricAppendable, logger: Logger, group: Labels) async {
        let appender = appendable.appender()
        do {
            if let text {
                _ = try cache.appendScrape(text, contentType: "text/plain; version=0.0.4", timestampMs: nowMs(), to: appender)
            } else {
                cache.appendFailedScrape(timestampMs: nowMs(), to: appender)
            }
        } catch {
            appender.rollback()
            logger.error("cannot store a push group", metadata: ["group": "\(group.braced)", "error": "\(error)"])
            return
        }
        do {
            _ = try await appender.commit()
        } catch {
            logger.error("cannot store a push group", metadata: ["group": "\(group.braced)", "error": "\(error)"])
        }
    }

    // MARK: - Parsing

    /// The pushed families, grouping labels applied; rejects timestamps, duplicates and
    /// families whose type or help differs from the same family in another group.
    private func parse(_ body: [UInt8], contentType: String, grouping: Labels) throws(IngestError) -> [String: Family] {
        let mediaType = contentType.split(separator: ";").first.map { $0.trimmingCharacters(in: .whitespaces).lowercased() } ?? ""
        guard mediaType.isEmpty || mediaType == "text/plain" else {
            throw IngestError(code: .unsupported, message: "unsupported Content-Type \"\(contentType)\": push the Prometheus text format (text/plain; version=0.0.4)")
        }
        var parser = PrometheusTextParser(body, isComplete: true)
        var families: [String: Family] = [:]
        var seen: Set<Labels> = []
        while true {
            let entry: ExpositionEntry?
            do {
                entry = try parser.next()
            } catch {
                throw IngestError(code: .badRequest, message: "text format parsing error in \(error)")
            }
            guard let entry else { break }
            switch entry {
            case .type(let family, let type):
                families[family, default: Family(type: "untyped", help: "", lines: [])].type = type == .unknown ? "untyped" : type.rawValue
            case .help(let family, let text):
                families[family, default: Family(type: "untyped", help: "", lines: [])].help = text
            case .unit:
                continue
            case .sample(let sample):
                guard sample.timestampMs == nil else {
                    throw IngestError(code: .badRequest, message: "pushed metrics must not have timestamps")
                }
                var builder = LabelsBuilder(sample.labels)
                for label in grouping.labels { builder.set(label.name, label.value) }
                let labels = builder.labels()
                guard seen.insert(labels).inserted else {
                    throw IngestError(code: .badRequest, message: "pushed metrics are invalid: \(labels.braced) was pushed twice")
                }
                let name = labels.metricName ?? ""
                let rest = labels.labels.filter { $0.name != "__name__" }.map { "\($0.name)=\"\(Self.escapeValue($0.value))\"" }.joined(separator: ",")
                families[sample.family, default: Family(type: "untyped", help: "", lines: [])].lines.append("\(name){\(rest)} \(sample.value)")
            }
        }
        families = families.filter { !$0.value.lines.isEmpty }
        for (name, family) in families {
            for (key, other) in groups where key != grouping {
                guard let existing = other.families[name] else { continue }
                if existing.type != family.type {
                    throw IngestError(code: .badRequest, message: "pushed metrics are invalid or inconsistent with existing metrics: metric \(name) has type \(family.type) but type \(existing.type) in group \(key.braced)")
                }
                if existing.help != family.help {
                    throw IngestError(code: .badRequest, message: "pushed metrics are invalid or inconsistent with existing metrics: metric \(name) has help \"\(family.help)\" but \"\(existing.help)\" in group \(key.braced)")
                }
            }
        }
        return families
    }

    private static func escapeValue(_ value: String) -> String {
        value.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"").replacingOccurrences(of: "\n", with: "\\n")
    }

    private static func escapeHelp(_ value: String) -> String {
        value.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\n", with: "\\n")
    }

    private static func nowMs() -> Int64 {
        Int64((Date().timeIntervalSince1970 * 1000).rounded(.down))
    }

    // MARK: - Persistence

    private func persist() {
        guard let persistencePath else { return }
        let stored = groups.values.sorted { $0.labels < $1.labels }.map { group in
            StoredGroup(labels: Dictionary(uniqueKeysWithValues: group.labels.labels.map { ($0.name, $0.value) }), families: group.families,
                        pushTimeSeconds: group.pushTimeSeconds, failureTimeSeconds: group.failureTimeSeconds)
        }
        do {
            let data = try JSONEncoder().encode(stored)
            let temporary = persistencePath + ".tmp"
            try data.write(to: URL(fileURLWithPath: temporary))
            guard rename(temporary, persistencePath) == 0 else {
                throw CocoaError(.fileWriteUnknown)
            }
        } catch {
            logger.error("cannot save the push groups", metadata: ["file": "\(persistencePath)", "error": "\(error)"])
        }
    }

    private func restore() {
        guard let persistencePath, let data = FileManager.default.contents(atPath: persistencePath) else { return }
        do {
            for stored in try JSONDecoder().decode([StoredGroup].self, from: data) {
                let labels = Labels(stored.labels)
                groups[labels] = Group(labels: labels, families: stored.families, pushTimeSeconds: stored.pushTimeSeconds,
                                       failureTimeSeconds: stored.failureTimeSeconds, cache: makeCache(labels))
            }
        } catch {
            logger.error("cannot read the saved push groups; starting without them", metadata: ["file": "\(persistencePath)", "error": "\(error)"])
        }
    }
}
