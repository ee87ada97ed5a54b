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
    /// One exposed series: what it becomes and when it was last seen.
    private struct Entry {
        var ref: SeriesRef?
        /// Final labels (empty when relabelling drops the series).
        var labels: Labels
        var dropped: Bool
        /// The iteration that last exposed the series.
        var lastSeen: UInt64
        /// The iteration that last tracked it for staleness.
        var tracked: UInt64
    }

    /// Labels attached to every sample (the target's labels without `__` ones).
    package let targetLabels: Labels
    package let rules: ScrapeRules
    /// The raw series bytes of each exposed series (name and labels as on its line), at the
    /// position of its entry in `entries`: one hash of the bytes per scraped sample.
    private var keys = SeriesKeyTable()
    private var entries: [Entry] = []
    private var iteration: UInt64 = 0
    /// Samples the last successful scrape appended (a capacity hint for the next).
    private var lastSampleCount = 0
    /// Positions of the series the last successful scrape saw without an explicit timestamp
    /// (or with one, under `track_timestamps_staleness`): those it does not see again go stale.
    private var trackedLastScrape: [Int] = []
    private var reportRefs: [String: SeriesRef] = [:]
    /// Type, help and unit per family, from the last scrape.
    package private(set) var metadata: [String: MetricMetadata] = [:]

    package init(targetLabels: Labels, rules: ScrapeRules) {
        self.targetLabels = targetLabels
        self.rules = rules
    }

    /// Appends a scraped body. On a thrown ``ScrapeFailure`` the caller rolls the appender
    /// back and calls ``appendFailedScrape(timestampMs:to:)`` with a new one.
    ///
    /// A series seen before is found by the raw bytes of its line's name and labels, which are
    /// then not parsed again, as in Prometheus' scrape cache: those bytes were parsed and
    /// checked when the series was first seen.
    package func appendScrape(_ body: [UInt8], contentType: String, timestampMs: Int64, to appender: any MetricAppender) throws(ScrapeFailure) -> ScrapeCounts {
        if ExpositionBodyFormat.isOpenMetrics(contentType) {
            var parser = OpenMetricsParser(body, isComplete: true)
            return try appendScrape(&parser, timestampMs: timestampMs, to: appender)
        }
        var parser = PrometheusTextParser(body, isComplete: true)
        return try appendScrape(&parser, timestampMs: timestampMs, to: appender)
    }

    private func appendScrape(_ parser: inout some ExpositionSeriesDeferringParser, timestampMs: Int64, to appender: any MetricAppender) throws(ScrapeFailure) -> ScrapeCounts {
        iteration &+= 1
        var counts = ScrapeCounts()
        var trackedNow: [Int] = []
        trackedNow.reserveCapacity(trackedLastScrape.count)
        var families: [String: MetricMetadata] = [:]
        // Families whose metadata differs from the last scrape's: their series update it.
        var changedFamilies: Set<String> = []
        var appended = 0
        var limitExceeded = false
        let tracksExplicit = rules.trackTimestampsStaleness || !rules.honorTimestamps
        appender.reserveCapacity(samples: lastSampleCount)
        // Series usually come in the order of the last scrape: the entry after the last one
        // found is tried first.
        var previousSlot = -1
        while true {
            let next: ExpositionDeferredEntry?
            do {
                next = try parser.nextDeferringSeries()
            } catch {
                throw ScrapeFailure(message: "\(error)", counts: counts)
            }
            guard let next else { break }
            let value: Double
            let sampleTimestampMs: Int64?
            let exemplar: Exemplar?
            switch next {
            case .sample(let sampleValue, let sampleTime, let sampleExemplar):
                value = sampleValue
                sampleTimestampMs = sampleTime
                exemplar = sampleExemplar
            case .metadata(.type(let family, let type)):
                families[family, default: MetricMetadata(type: .unknown)].type = type
                if metadata[family]?.type != type { changedFamilies.insert(family) }
                continue
            case .metadata(.help(let family, let text)):
                families[family, default: MetricMetadata(type: .unknown)].help = text
                if metadata[family]?.help != text { changedFamilies.insert(family) }
                continue
            case .metadata(.unit(let family, let unit)):
                families[family, default: MetricMetadata(type: .unknown)].unit = unit
                if metadata[family]?.unit != unit { changedFamilies.insert(family) }
                continue
            case .metadata(.sample):
                continue
            }
            counts.samplesScraped += 1
            var isNew = false
            var slot = parser.withCurrentSeriesBytes { $0.isEmpty ? nil : keys.position(of: $0, tryingFirst: previousSlot + 1) } ?? -1
            if slot < 0 {
                let sample: ExpositionSample
                do {
                    sample = try parser.currentSeries()
                } catch {
                    throw ScrapeFailure(message: "\(error)", counts: counts)
                }
                var key = parser.withCurrentSeriesBytes { Array($0) }
                // A line that could not be delimited is known by its parsed labels instead (no
                // series line starts with a zero byte).
                if key.isEmpty { key = [0] + Array(sample.labels.description.utf8) }
                if let known = key.withUnsafeBufferPointer({ keys.position(of: $0) }) {
                    slot = known
                } else {
                    slot = entries.count
                    if let labels = sampleLabels(sample.labels) {
                        if let problem = check(labels) {
                            throw ScrapeFailure(message: problem, counts: counts)
                        }
                        entries.append(Entry(ref: nil, labels: labels, dropped: false, lastSeen: 0, tracked: 0))
                        counts.seriesAdded += 1
                        isNew = true
                    } else {
                        entries.append(Entry(ref: nil, labels: .empty, dropped: true, lastSeen: 0, tracked: 0))
                    }
                    key.withUnsafeBufferPointer { keys.append($0) }
                }
            }
            previousSlot = slot
            entries[slot].lastSeen = iteration
            guard !entries[slot].dropped else { continue }
            counts.samplesPostRelabeling += 1
            if rules.sampleLimit > 0 {
                appended += 1
                if appended > rules.sampleLimit {
                    limitExceeded = true
                    continue
                }
            }
            let time = rules.honorTimestamps ? (sampleTimestampMs ?? timestampMs) : timestampMs
            do {
                let ref = try append(appender, entries[slot].ref, time, value) { entries[slot].labels }
                entries[slot].ref = ref
                if let exemplar {
                    _ = try? appender.appendExemplar(ref, labels: entries[slot].labels, exemplar: exemplar)
                }
            } catch {
                counts.samplesRejected += 1
            }
            if (sampleTimestampMs == nil || tracksExplicit) && entries[slot].tracked != iteration {
                entries[slot].tracked = iteration
                trackedNow.append(slot)
            }
            if isNew || !changedFamilies.isEmpty {
                let family = parser.currentFamily()
                if isNew || changedFamilies.contains(family), let meta = families[family] {
                    _ = try? appender.updateMetadata(entries[slot].ref, labels: entries[slot].labels, metadata: meta)
                }
            }
        }
        if limitExceeded {
            throw ScrapeFailure(message: "sample limit exceeded", counts: counts)
        }
        markStale(trackedLastScrape.filter { entries[$0].tracked != iteration }, timestampMs: timestampMs, appender: appender)
        trackedLastScrape = trackedNow
        lastSampleCount = counts.samplesPostRelabeling
        metadata = families
        forgetUnseen()
        return counts
    }

    /// A failed scrape counts as an empty one: every series of the last scrape gets a
    /// staleness marker.
    package func appendFailedScrape(timestampMs: Int64, to appender: any MetricAppender) {
        markStale(trackedLastScrape, timestampMs: timestampMs, appender: appender)
        trackedLastScrape = []
    }

    /// Whether a scrape was reported (``appendReport(up:durationSeconds:counts:timestampMs:to:)``).
    package var hasReported: Bool { !reportRefs.isEmpty }

    /// Staleness markers for everything the target exposed (and its report series), when the
    /// target goes away.
    package func appendEndOfTarget(timestampMs: Int64, to appender: any MetricAppender) {
        appendFailedScrape(timestampMs: timestampMs, to: appender)
        for name in ScrapeReportSeries.names {
            _ = try? append(appender, reportRefs[name], timestampMs, StaleMarker.value) { reportLabels(name) }
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
            if let ref = try? append(appender, reportRefs[name], timestampMs, value, labels: { reportLabels(name) }) {
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
            if rules.labelNameLengthLimit > 0 && label.name.utf8.count > rules.labelNameLengthLimit {
                return "label_name_length_limit exceeded (metric: \(shown), label name: \(label.name.prefix(50)), length: \(label.name.utf8.count), limit: \(rules.labelNameLengthLimit))"
            }
            if rules.labelValueLengthLimit > 0 && label.value.utf8.count > rules.labelValueLengthLimit {
                return "label_value_length_limit exceeded (metric: \(shown), label name: \(label.name.prefix(50)), value: \"\(label.value.prefix(50))\", length: \(label.value.utf8.count), limit: \(rules.labelValueLengthLimit))"
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

    /// Appends by reference when there is one (the labels are not even built or touched then:
    /// for a large scrape most of the cost is memory traffic), else by `labels()`; a reference
    /// the storage no longer knows is retried by labels.
    private func append(
        _ appender: any MetricAppender, _ ref: SeriesRef?, _ timestampMs: Int64, _ value: Double, labels: () -> Labels
    ) throws(StorageError) -> SeriesRef {
        if let ref {
            do {
                return try appender.append(ref, labels: .empty, timestampMs: timestampMs, value: value)
            } catch let error where error.code == .unknownSeriesRef {}
        }
        return try appender.append(nil, labels: labels(), timestampMs: timestampMs, value: value)
    }

    private func markStale(_ stale: [Int], timestampMs: Int64, appender: any MetricAppender) {
        for slot in stale {
            if let ref = try? append(appender, entries[slot].ref, timestampMs, StaleMarker.value, labels: { entries[slot].labels }) {
                entries[slot].ref = ref
            }
        }
    }

    /// Drops the entries of series the last two scrapes did not expose (now and then, when the
    /// cache has grown well past the last scrape or every tenth scrape), as Prometheus' cache.
    private func forgetUnseen() {
        guard entries.count > 2 * max(trackedLastScrape.count, 1) || iteration % 10 == 0 else { return }
        let keepFrom = iteration > 1 ? iteration - 1 : 0
        var remap = [Int](repeating: -1, count: entries.count)
        var kept: [Entry] = []
        kept.reserveCapacity(entries.count)
        for (slot, entry) in entries.enumerated() where entry.lastSeen >= keepFrom {
            remap[slot] = kept.count
            kept.append(entry)
        }
        guard kept.count < entries.count else { return }
        entries = kept
        keys.retain { remap[$0] >= 0 }
        trackedLastScrape = trackedLastScrape.compactMap { remap[$0] >= 0 ? remap[$0] : nil }
    }
}

/// The names of the series each scrape reports about itself.
package enum ScrapeReportSeries {
    package static let names = ["up", "scrape_duration_seconds", "scrape_samples_scraped", "scrape_samples_post_metric_relabeling", "scrape_series_added"]
}
