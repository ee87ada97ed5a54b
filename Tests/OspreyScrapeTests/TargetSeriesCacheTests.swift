import OspreyModel
@testable import OspreyScrape
import OspreyStorage
import OspreyTestSupport
import Testing

struct TargetSeriesCacheTests {
    private let target = Labels(["job": "node", "instance": "host:9100"])

    private func scrape(_ cache: TargetSeriesCache, _ body: String, at time: Int64, into store: ReferenceStore, contentType: String = "text/plain; version=0.0.4") async throws -> Result<ScrapeCounts, ScrapeFailure> {
        var appender = store.appender()
        let result: Result<ScrapeCounts, ScrapeFailure>
        do {
            result = .success(try cache.appendScrape(Array(body.utf8), contentType: contentType, timestampMs: time, to: appender))
        } catch {
            appender.rollback()
            appender = store.appender()
            cache.appendFailedScrape(timestampMs: time, to: appender)
            result = .failure(error)
        }
        let counts = (try? result.get()) ?? ScrapeCounts()
        cache.appendReport(up: (try? result.get()) != nil, durationSeconds: 0.5, counts: counts, timestampMs: time, to: appender)
        _ = try await appender.commit()
        return result
    }

    private func all(_ store: ReferenceStore) throws -> [Labels: [Sample]] {
        try readAll(store, matchers: [matcher(.regexMatch, "__name__", ".+")])
    }

    @Test func samplesGetTargetLabelsAndClashingLabelsBecomeExported() async throws {
        let store = ReferenceStore()
        let cache = TargetSeriesCache(targetLabels: target, rules: ScrapeRules())
        let body = """
            # TYPE requests_total counter
            requests_total{job="app",exported_job="x",code="200"} 7
            temperature 21.5 1000
            """
        let counts = try await scrape(cache, body + "\n", at: 5000, into: store).get()
        #expect(counts.samplesScraped == 2 && counts.samplesPostRelabeling == 2 && counts.seriesAdded == 2)
        let series = try all(store)
        #expect(series[Labels(["__name__": "requests_total", "job": "node", "instance": "host:9100", "exported_exported_job": "app", "exported_job": "x", "code": "200"])] == [Sample(timestampMs: 5000, value: 7)])
        // An explicit timestamp is honoured.
        #expect(series[Labels(["__name__": "temperature", "job": "node", "instance": "host:9100"])] == [Sample(timestampMs: 1000, value: 21.5)])
        #expect(series[Labels(["__name__": "up", "job": "node", "instance": "host:9100"])] == [Sample(timestampMs: 5000, value: 1)])
        #expect(series[Labels(["__name__": "scrape_samples_scraped", "job": "node", "instance": "host:9100"])] == [Sample(timestampMs: 5000, value: 2)])
        #expect(series[Labels(["__name__": "scrape_series_added", "job": "node", "instance": "host:9100"])] == [Sample(timestampMs: 5000, value: 2)])
        #expect(cache.metadata["requests"]?.type == .counter || cache.metadata["requests_total"]?.type == .counter)
    }

    @Test func knownSeriesAreFoundByTheirBytesAndOtherSpellingsMapToTheSameSeries() async throws {
        let store = ReferenceStore()
        let cache = TargetSeriesCache(targetLabels: target, rules: ScrapeRules())
        let first = "a{x=\"1\",y=\"2\"} 1\nb 5\n"
        #expect(try await scrape(cache, first, at: 1000, into: store).get().seriesAdded == 2)
        // Same bytes: found without a new series; the same series spelled otherwise is a new
        // cache entry but the same stored series, whose second sample in a scrape is refused.
        let second = "b 6\na{x=\"1\",y=\"2\"} 2\na{y=\"2\", x=\"1\"} 3\n"
        let counts = try await scrape(cache, second, at: 2000, into: store).get()
        #expect(counts.samplesScraped == 3 && counts.seriesAdded == 1 && counts.samplesRejected == 1)
        let series = try all(store)
        let a = Labels(["__name__": "a", "x": "1", "y": "2", "job": "node", "instance": "host:9100"])
        #expect(series[a] == [Sample(timestampMs: 1000, value: 1), Sample(timestampMs: 2000, value: 2)])
        #expect(series[Labels(["__name__": "b", "job": "node", "instance": "host:9100"])]?.map(\.value) == [5, 6])
        // A known series with a bad value still fails the scrape, naming the line.
        let failure = try await scrape(cache, "b 7\na{x=\"1\",y=\"2\"} seven\n", at: 3000, into: store)
        guard case .failure(let error) = failure else {
            Issue.record("a bad value on a known series was accepted")
            return
        }
        #expect(error.message.contains("line 2") && error.message.contains("seven"))
    }

    @Test func honorLabelsKeepsExposedValues() async throws {
        let store = ReferenceStore()
        var rules = ScrapeRules()
        rules.honorLabels = true
        let cache = TargetSeriesCache(targetLabels: target, rules: rules)
        _ = try await scrape(cache, "pushed{job=\"batch\"} 1\n", at: 1000, into: store).get()
        #expect(try all(store)[Labels(["__name__": "pushed", "job": "batch", "instance": "host:9100"])] != nil)
    }

    @Test func metricRelabellingDropsAndRewrites() async throws {
        let store = ReferenceStore()
        var rules = ScrapeRules()
        rules.metricRelabelConfigs = [
            try RelabelRule(sourceLabels: ["__name__"], regex: "go_.*", action: .drop),
            try RelabelRule(sourceLabels: ["__name__"], targetLabel: "__name__", regex: "node_(.*)", replacement: "host_$1"),
        ]
        let cache = TargetSeriesCache(targetLabels: target, rules: rules)
        let counts = try await scrape(cache, "go_goroutines 8\nnode_load1 0.5\n", at: 1000, into: store).get()
        #expect(counts.samplesScraped == 2 && counts.samplesPostRelabeling == 1)
        let names = Set(try all(store).keys.compactMap(\.metricName))
        #expect(names.contains("host_load1") && !names.contains("go_goroutines") && !names.contains("node_load1"))
    }

    @Test func vanishedSeriesAndFailedScrapesGetStalenessMarkers() async throws {
        let store = ReferenceStore()
        let cache = TargetSeriesCache(targetLabels: target, rules: ScrapeRules())
        _ = try await scrape(cache, "a 1\nb 2\nc 3 500\n", at: 1000, into: store).get()
        _ = try await scrape(cache, "a 1\n", at: 2000, into: store).get()
        var series = try all(store)
        let b = Labels(["__name__": "b", "job": "node", "instance": "host:9100"])
        #expect(series[b]?.count == 2 && StaleMarker.isStale(series[b]?.last?.value ?? 0))
        // Series with explicit timestamps are not marked stale (track_timestamps_staleness is off).
        #expect(series[Labels(["__name__": "c", "job": "node", "instance": "host:9100"])]?.count == 1)
        // A malformed body fails the scrape: nothing of it is stored, `a` goes stale, up is 0.
        let failure = await #expect(throws: ScrapeFailure.self) { try await scrape(cache, "a 1\nbad{ 2\n", at: 3000, into: store).get() }
        #expect(failure?.message.contains("line 2") == true)
        series = try all(store)
        let a = Labels(["__name__": "a", "job": "node", "instance": "host:9100"])
        #expect(series[a]?.map(\.timestampMs) == [1000, 2000, 3000] && StaleMarker.isStale(series[a]?.last?.value ?? 0))
        #expect(series[Labels(["__name__": "up", "job": "node", "instance": "host:9100"])]?.map(\.value) == [1, 1, 0])
        // The target going away marks its report series stale too.
        let appender = store.appender()
        cache.appendEndOfTarget(timestampMs: 4000, to: appender)
        _ = try await appender.commit()
        #expect(StaleMarker.isStale(try all(store)[Labels(["__name__": "up", "job": "node", "instance": "host:9100"])]?.last?.value ?? 0))
    }

    @Test func limitsFailTheWholeScrape() async throws {
        let body = "a{x=\"1\"} 1\na{x=\"2\"} 2\na{x=\"3\",long_label_name=\"v\"} 3\n"
        let cases: [(ScrapeRules, String)] = [
            ({ var r = ScrapeRules(); r.sampleLimit = 2; return r }(), "sample limit exceeded"),
            ({ var r = ScrapeRules(); r.labelLimit = 4; return r }(), "label_limit exceeded"),
            ({ var r = ScrapeRules(); r.labelNameLengthLimit = 10; return r }(), "label_name_length_limit exceeded"),
            ({ var r = ScrapeRules(); r.labelValueLengthLimit = 4; return r }(), "label_value_length_limit exceeded"),
        ]
        for (rules, words) in cases {
            let store = ReferenceStore()
            let cache = TargetSeriesCache(targetLabels: target, rules: rules)
            let result = try await scrape(cache, body, at: 1000, into: store)
            guard case .failure(let failure) = result else {
                Issue.record("\(words): the scrape passed")
                continue
            }
            #expect(failure.message.contains(words), "\(failure.message)")
            #expect(try all(store).keys.compactMap(\.metricName).allSatisfy { ScrapeReportSeries.names.contains($0) })
        }
        // Within the limits, the same body passes.
        var rules = ScrapeRules()
        rules.sampleLimit = 3
        rules.labelLimit = 5
        let store = ReferenceStore()
        #expect(try await scrape(TargetSeriesCache(targetLabels: target, rules: rules), body, at: 1000, into: store).get().samplesPostRelabeling == 3)
    }

    @Test func openMetricsBodiesAreParsedAsOpenMetricsAndNeedEOF() async throws {
        let store = ReferenceStore()
        let cache = TargetSeriesCache(targetLabels: target, rules: ScrapeRules())
        let body = "# TYPE jobs counter\njobs_total 3 # {trace_id=\"abc\"} 1 1.5\njobs_created 100\n# EOF\n"
        let counts = try await scrape(cache, body, at: 2000, into: store, contentType: "application/openmetrics-text; version=1.0.0; charset=utf-8").get()
        #expect(counts.samplesScraped == 2)
        #expect(try all(store)[Labels(["__name__": "jobs_created", "job": "node", "instance": "host:9100"])] == [Sample(timestampMs: 2000, value: 100)])
        let failure = await #expect(throws: ScrapeFailure.self) {
            try await scrape(cache, "jobs_total 4\n", at: 3000, into: store, contentType: "application/openmetrics-text").get()
        }
        #expect(failure?.message.contains("EOF") == true)
    }

    @Test func forgottenSeriesComeBackAsNewAndStalenessSurvivesEviction() async throws {
        let store = ReferenceStore()
        let cache = TargetSeriesCache(targetLabels: target, rules: ScrapeRules())
        _ = try await scrape(cache, "a 1\nb 1\n", at: 1000, into: store).get()
        for step in 2...12 {
            let counts = try await scrape(cache, "a 1\nc \(step)\n", at: Int64(step) * 1000, into: store).get()
            #expect(counts.seriesAdded == (step == 2 ? 1 : 0))
        }
        // Evicted after two scrapes without it, `b` counts as added again when it returns.
        let back = try await scrape(cache, "a 1\nb 2\n", at: 13_000, into: store).get()
        #expect(back.seriesAdded == 1)
        let series = try all(store)
        let b = series[Labels(["__name__": "b", "job": "node", "instance": "host:9100"])] ?? []
        #expect(b.map(\.timestampMs) == [1000, 2000, 13_000])
        #expect(StaleMarker.isStale(b[1].value) && b[2].value == 2)
        // `c` was tracked across the evictions and goes stale exactly once, at 13 s.
        let c = series[Labels(["__name__": "c", "job": "node", "instance": "host:9100"])] ?? []
        #expect(c.count == 12 && StaleMarker.isStale(c.last?.value ?? 0) && c.last?.timestampMs == 13_000)
    }
}
