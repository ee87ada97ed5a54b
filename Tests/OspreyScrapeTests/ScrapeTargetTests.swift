import OspreyModel
@testable import OspreyScrape
import Testing

struct ScrapeTargetTests {
    private func config() -> ScrapeConfig {
        var config = ScrapeConfig(jobName: "node", scrapeIntervalMs: 15_000, scrapeTimeoutMs: 10_000)
        config.params = ["module": ["http_2xx"]]
        return config
    }

    @Test func defaultsRelabellingAndInstance() throws {
        var config = config()
        config.relabelConfigs = [
            try RelabelRule(sourceLabels: ["__meta_env"], targetLabel: "env"),
            try RelabelRule(sourceLabels: ["__address__"], targetLabel: "__param_target"),
        ]
        let group = TargetGroup(targets: ["example.org", "10.0.0.1:9100"], labels: Labels(["__meta_env": "prod", "team": "a"]))
        let outcomes = ScrapeTarget.targets(from: group, config: config)
        guard case .active(let first) = outcomes[0], case .active(let second) = outcomes[1] else {
            Issue.record("expected active targets: \(outcomes)")
            return
        }
        #expect(first.labels == Labels([
            "__address__": "example.org:80", "__scheme__": "http", "__metrics_path__": "/metrics", "__scrape_interval__": "15s",
            "__scrape_timeout__": "10s", "__param_module": "http_2xx", "__param_target": "example.org", "env": "prod", "team": "a",
            "job": "node", "instance": "example.org:80",
        ]))
        #expect(first.publicLabels == Labels(["env": "prod", "team": "a", "job": "node", "instance": "example.org:80"]))
        #expect(first.discoveredLabels["__meta_env"] == "prod")
        #expect(first.url(params: config.params) == "http://example.org:80/metrics?module=http_2xx&target=example.org")
        #expect(second.address == "10.0.0.1:9100" && second.scrapeIntervalMs == 15_000)
    }

    @Test func droppedAndInvalidTargets() throws {
        var config = config()
        config.relabelConfigs = [try RelabelRule(sourceLabels: ["__address__"], regex: "drop.*", action: .drop)]
        #expect(ScrapeTarget.targets(from: TargetGroup(targets: ["drop-me:1"]), config: config).count == 1)
        guard case .dropped = ScrapeTarget.targets(from: TargetGroup(targets: ["drop-me:1"]), config: config)[0] else {
            Issue.record("not dropped")
            return
        }
        let invalid: [(Labels, String)] = [
            (Labels(["__address__": "a:1", "__scrape_timeout__": "20s"]), "scrape timeout cannot be greater than scrape interval"),
            (Labels(["__address__": "a:1", "__scrape_interval__": "soon"]), "error parsing scrape interval"),
            (Labels(["__address__": "a/b:1"]), "is not a valid hostname"),
            (Labels(["__address__": "a", "__scheme__": "ftp"]), "invalid scheme"),
        ]
        for (labels, words) in invalid {
            guard case .invalid(_, let reason) = ScrapeTarget.populate(labels, config: config) else {
                Issue.record("\(labels) was accepted")
                continue
            }
            #expect(reason.contains(words), "\(reason)")
        }
        guard case .invalid(_, let reason) = ScrapeTarget.populate(Labels(["x": "1"]), config: config) else {
            Issue.record("no address accepted")
            return
        }
        #expect(reason == "no address")
    }

    @Test func hostPortSplitting() {
        #expect(ScrapeTarget.needsPort("example.org"))
        #expect(!ScrapeTarget.needsPort("example.org:9100"))
        #expect(ScrapeTarget.needsPort("[::1]"))
        #expect(!ScrapeTarget.needsPort("[::1]:9100"))
        #expect(!ScrapeTarget.needsPort("::1"))  // not valid either way: left alone
    }
}
