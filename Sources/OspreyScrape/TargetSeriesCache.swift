package import OspreyIngest
package import OspreyModel
package import OspreyStorage

/// What a scrape's samples are subject to: the job's label handling and limits.
package struct ScrapeRules: Hashable, Sendable {
    package var honorLabels = false
    package var honorTimestamps = true
    package var trackTimestampsStaleness = false
    package var sampleLimit = 0
    package var labelLimit = 0
    package var labelNameLengthLimit = 0
    package var labelValueLengthLimit = 0
    package var metricRelabelConfigs: [RelabelRule] = []
    package var nameValidation: NameValidationScheme = .utf8

    package init() {}

    package init(_ config: ScrapeConfig) {
        honorLabels = config.honorLabels
        honorTimestamps = config.honorTimestamps
        trackTimestampsStaleness = config.trackTimestampsStaleness
        sampleLimit = config.sampleLimit
        labelLimit = config.labelLimit
        labelNameLengthLimit = config.labelNameLengthLimit
        labelValueLengthLimit = config.labelValueLengthLimit
        metricRelabelConfigs = config.metricRelabelConfigs
        nameValidation = config.nameValidation
    }
}

/// The counts a scrape reports as `scrape_samples_scraped`,
/// `scrape_samples_post_metric_relabeling` and `scrape_series_added`.
package struct ScrapeCounts: Hashable, Sendable {
    package var samplesScraped = 0
    package var samplesPostRelabeling = 0
    package var seriesAdded = 0
    /// Samples the storage refused (out of order, duplicate, out of bounds), as Prometheus
    /// counts them without failing the scrape.
    package var samplesRejected = 0
    package init() {}
}

/// A scrape that failed after its body arrived (parse error, a limit exceeded).
package struct ScrapeFailure: Error, Hashable, Sendable, CustomStringConvertible {
    package var message: String
    package var counts: ScrapeCounts
    package var description: String { message }
}

/// One target's series across scrapes, as Prometheus' scrape cache: the labels each exposed
/// series becomes after the target's labels and `metric_relabel_configs` (computed once), the
/// storage references, the series seen by the last scrape (for staleness markers) and the
/// families' metadata. Used by one scrape at a time: its owner (a scrape loop's task, or the
/// push-group actor) never lets two operations overlap, hence `@unchecked Sendable`.
package final class TargetSeriesCache: @unchecked Sendable {
    private struct Entry {
        var ref: SeriesRef?
        var labels: Labels
        var lastSeen: UInt64
    }

    /// Labels attached to every sample (the target's labels without `__` ones).
    package let targetLabels: Labels
    package let rules: ScrapeRules
    private var entries: [Labels: Entry] = [:]
    private var dropped: [Labels: UInt64] = [:]
    private var iteration: UInt64 = 0
    /// Final labels and references of the series the last successful scrape saw without an
    /// explicit timestamp (or with one, under `track_timestamps_staleness`).
    private var lastSeen: [Labels: SeriesRef?] = [:]
    private var reportRefs: [String: SeriesRef] = [:]
    /// Type, help and unit per family, from the last scrape.
    package private(set) var metadata: [String: MetricMetadata] = [:]

    package init(targetLabels: Labels, rules: ScrapeRules) {
        self.targetLabels = targetLabels
        self.rules = rules
    }

    /// Appends a scraped body. On a thrown ``ScrapeFailure`` the caller rolls the appender
    /// back and calls ``appendFailedScrape(timestampMs:to:)`` with a new one.
    package func appendScrape(_ body: [UInt8], contentType: String, timestampMs: Int64, to appender: any MetricAppender) throws(ScrapeFailure) -> ScrapeCounts {
        var parser = ExpositionBodyParser(body, contentType: contentType)
        return try appendEntries(timestampMs: timestampMs, to: appender) { () throws(ExpositionParseError) -> ExpositionEntry? in try parser.next() }
    }

    /// Appends a scrape's entries as `next` yields them (nil at the end), as
    /// ``appendScrape(_:contentType:timestampMs:to:)`` does for a body.
    package func appendEntries(timestampMs: Int64, to appender: any MetricAppender, next: () throws(ExpositionParseError) -> ExpositionEntry?) throws(ScrapeFailure) -> ScrapeCounts {
        iteration &+= 1
        var counts = ScrapeCounts()
        var seen: [Labels: SeriesRef?] = [:]
        seen.reserveCapacity(lastSeen.count)
        var families: [String: MetricMetadata] = [:]
        var appended = 0
        var limitExceeded = false
        while true {
            let entry: ExpositionEntry?
            do {
                entry = try next()
            } catch {
                throw ScrapeFailure(message: "\(error)", counts: counts)
            }
            guard let entry else { break }
            let sample: ExpositionSample
            switch entry {
            case .sample(let one): sample = one
            case .type(let family, let type): families[family, default: MetricMetadata(type: .unknown)].type = type; continue
            case .help(let family, let text): families[family, default: MetricMetadata(type: .unknown)].help = text; continue
            case .unit(let family, let unit): families[family, default: MetricMetadata(type: .unknown)].unit = unit; continue
            }
            counts.samplesScraped += 1
            if dropped[sample.labels] != nil {
                dropped[sample.labels] = iteration
                continue
            }
            var cached = entries[sample.labels]
            let isNew = cached == nil
            if cached == nil {
                guard let labels = sampleLabels(sample.labels) else {
                    dropped[sample.labels] = iteration
                    continue
                }
                if let problem = check(labels) {
                    throw ScrapeFailure(message: problem, counts: counts)
                }
                cached = Entry(ref: nil, labels: labels, lastSeen: 0)
                counts.seriesAdded += 1
            }
            guard var current = cached else { continue }
            current.lastSeen = iteration
            counts.samplesPostRelabeling += 1
            if rules.sampleLimit > 0 {
                appended += 1
                if appended > rules.sampleLimit {
                    limitExceeded = true
                    entries[sample.labels] = current
                    continue
                }
            }
            let explicit = sample.timestampMs != nil
            let time = rules.honorTimestamps ? (sample.timestampMs ?? timestampMs) : timestampMs
            do {
                current.ref = try append(appender, current.ref, current.labels, time, sample.value)
                if let exemplar = sample.exemplar {
                    _ = try? appender.appendExemplar(current.ref, labels: current.labels, exemplar: exemplar)
                }
            } catch {
                counts.samplesRejected += 1
            }
            if !explicit || rules.trackTimestampsStaleness || !rules.honorTimestamps {
                seen[current.labels] = current.ref
            }
            if let meta = families[sample.family], isNew || metadata[sample.family] != meta {
                _ = try? appender.updateMetadata(current.ref, labels: current.labels, metadata: meta)
            }
            entries[sample.labels] = current
        }
        if limitExceeded {
            throw ScrapeFailure(message: "sample limit exceeded", counts: counts)
        }
        markStale(except: seen, timestampMs: timestampMs, appender: appender)
        lastSeen = seen
        metadata = families
        forgetUnseen()
        return counts
    }

    /// A failed scrape counts as an empty one: every series of the last scrape gets a
    /// staleness marker.
    package func appendFailedScrape(timestampMs: Int64, to appender: any MetricAppender) {
        markStale(except: [:], timestampMs: timestampMs, appender: appender)
        lastSeen = [:]
    }

    /// Staleness markers for everything the target exposed (and its report series), when the
    /// target goes away.
    package func appendEndOfTarget(timestampMs: Int64, to appender: any MetricAppender) {
        appendFailedScrape(timestampMs: timestampMs, to: appender)
        for name in ScrapeReportSeries.names {
            _ = try? appender.append(reportRefs[name], labels: reportLabels(name), timestampMs: timestampMs, value: StaleMarker.value)
        }
    }

    /// The report series of a scrape: `up`, `scrape_duration_seconds`,
    /// `scrape_samples_scraped`, `scrape_samples_post_metric_relabeling`, `scrape_series_added`.
    package func appendReport(up: Bool, durationSeconds: Double, counts: ScrapeCounts, timestampMs: Int64, to appender: any MetricAppender) {
        let values: [(String, Double)] = [
            ("up", up ? 1 : 0), ("scrape_duration_seconds", durationSeconds), ("scrape_samples_scraped", Double(counts.samplesScraped)),
            ("scrape_samples_post_metric_relabeling", Double(counts.samplesPostRelabeling)), ("scrape_series_added", Double(counts.seriesAdded)),
        ]
        for (name, value) in values {
            if let ref = try? append(appender, reportRefs[name], reportLabels(name), timestampMs, value) {
                reportRefs[name] = ref
            }
        }
    }

    // MARK: - Labels

    /// The exposed labels with the target's labels, then `metric_relabel_configs`; nil when
    /// relabelling drops the series.
    private func sampleLabels(_ exposed: Labels) -> Labels? {
        var builder = LabelsBuilder(exposed)
        if rules.honorLabels {
            for label in targetLabels where exposed[label.name] == nil {
                builder.set(label.name, label.value)
            }
        } else {
            var conflicts: [Label] = []
            for label in targetLabels {
                if let existing = exposed[label.name], !existing.isEmpty { conflicts.append(Label(name: label.name, value: existing)) }
                builder.set(label.name, label.value)
            }
            // Exposed labels that clash with target labels are kept as `exported_<name>`
            // (more prefixes while that name is taken too), shortest names first.
            conflicts = conflicts.enumerated().sorted { ($0.element.name.count, $0.offset) < ($1.element.name.count, $1.offset) }.map(\.element)
            for index in conflicts.indices {
                var name = conflicts[index].name
                repeat {
                    name = "exported_" + name
                } while exposed[name] != nil || targetLabels[name] != nil || conflicts[..<index].contains { $0.name == name }
                conflicts[index].name = name
            }
            for label in conflicts { builder.set(label.name, label.value) }
        }
        let labels = builder.labels()
        guard !rules.metricRelabelConfigs.isEmpty else { return labels }
        return RelabelRule.process(labels, rules: rules.metricRelabelConfigs)
    }

    /// A problem that fails the scrape: no metric name, or a label limit exceeded (Prometheus'
    /// messages).
    private func check(_ labels: Labels) -> String? {
        guard let name = labels.metricName, rules.nameValidation.isValidMetricName(name) else {
            return "invalid metric name or no metric name in \(labels.braced)"
        }
        let shown = String(name.prefix(50))
        if rules.labelLimit > 0 && labels.count > rules.labelLimit {
            return "label_limit exceeded (metric: \(shown), number of labels: \(labels.count), limit: \(rules.labelLimit))"
        }
        for label in labels {
            if rules.labelNameLengthLimit > 0 && label.name.count > rules.labelNameLengthLimit {
                return "label_name_length_limit exceeded (metric: \(shown), label name: \(label.name.prefix(50)), length: \(label.name.count), limit: \(rules.labelNameLengthLimit))"
            }
            if rules.labelValueLengthLimit > 0 && label.value.count > rules.labelValueLengthLimit {
                return "label_value_length_limit exceeded (metric: \(shown), label name: \(label.name.prefix(50)), value: \"\(label.value.prefix(50))\", length: \(label.value.count), limit: \(rules.labelValueLengthLimit))"
            }
        }
        return nil
    }

    private func reportLabels(_ name: String) -> Labels {
        var builder = LabelsBuilder(targetLabels)
        builder.set("__name__", name)
        return builder.labels()
    }

    // MARK: - Appending

    private func append(_ appender: any MetricAppender, _ ref: SeriesRef?, _ labels: Labels, _ timestampMs: Int64, _ value: Double) throws(StorageError) -> SeriesRef {
        do {
            return try appender.append(ref, labels: labels, timestampMs: timestampMs, value: value)
        } catch let error where error.code == .unknownSeriesRef && ref != nil {
            return try appender.append(nil, labels: labels, timestampMs: timestampMs, value: value)
        }
    }

    private func markStale(except seen: [Labels: SeriesRef?], timestampMs: Int64, appender: any MetricAppender) {
        for (labels, ref) in lastSeen where seen[labels] == nil {
            _ = try? append(appender, ref, labels, timestampMs, StaleMarker.value)
        }
    }

    /// Drops cache entries for series the last two scrapes did not expose.
    private func forgetUnseen() {
        let keepFrom = iteration > 1 ? iteration - 1 : 0
        if entries.count > 2 * max(lastSeen.count, 1) || iteration % 10 == 0 {
            entries = entries.filter { $0.value.lastSeen >= keepFrom }
            dropped = dropped.filter { $0.value >= keepFrom }
        }
    }
}

/// The names of the series each scrape reports about itself.
package enum ScrapeReportSeries {
    package static let names = ["up", "scrape_duration_seconds", "scrape_samples_scraped", "scrape_samples_post_metric_relabeling", "scrape_series_added"]
}
