import OspreyIngest
import OspreyModel
import OspreyScrape
import OspreyServer
import Testing

struct OspreyConfigTests {
    @Test func parsesGlobalAndStorageSections() throws {
        let config = try OspreyConfig.parse("""
            global:
              scrape_interval: 15s
              evaluation_interval: 30s
              external_labels:
                cluster: eu-1
              metric_name_validation_scheme: legacy
            storage:
              tsdb:
                out_of_order_time_window: 10m
            """, file: "osprey.yml")
        #expect(config.global.scrapeIntervalMs == 15_000)
        #expect(config.global.externalLabels == Labels(["cluster": "eu-1"]))
        #expect(config.global.metricNameValidationScheme == .legacy)
        #expect(config.storage.outOfOrderTimeWindowMs == 600_000)
    }

    @Test func parsesScrapeConfigsWithPrometheusDefaults() throws {
        let config = try OspreyConfig.parse("""
            global:
              scrape_interval: 30s
              scrape_timeout: 20s
            scrape_configs:
              - job_name: node
                scrape_interval: 15s
                params: {module: [http_2xx]}
                honor_labels: true
                sample_limit: 100
                body_size_limit: 10MB
                authorization: {credentials: secret}
                static_configs:
                  - targets: ['localhost:9100']
                    labels: {team: infra}
                file_sd_configs:
                  - files: ['targets/*.json']
                    refresh_interval: 1m
                relabel_configs:
                  - source_labels: [__address__]
                    regex: '(.*):.*'
                    target_label: host
                metric_relabel_configs:
                  - action: LabelDrop
                    regex: tmp_.*
              - job_name: other
                scrape_interval: 1m
                scheme: https
                scrape_protocols: [PrometheusProto, PrometheusText0.0.4, OpenMetricsText1.0.0]
            """, file: "/etc/osprey/osprey.yml")
        #expect(config.scrapeConfigs.count == 2)
        let node = config.scrapeConfigs[0]
        #expect(node.scrapeIntervalMs == 15_000 && node.scrapeTimeoutMs == 15_000)  // the global timeout, capped at the interval
        #expect(node.params == ["module": ["http_2xx"]] && node.honorLabels && node.sampleLimit == 100)
        #expect(node.bodySizeLimitBytes == 10 << 20)
        #expect(node.authorization == ScrapeConfig.Authorization(type: "Bearer", credentials: "secret"))
        #expect(node.staticConfigs.first?.targets == ["localhost:9100"] && node.staticConfigs.first?.labels == Labels(["team": "infra"]))
        #expect(node.fileSDConfigs == [ScrapeConfig.FileSDConfig(files: ["/etc/osprey/targets/*.json"], refreshIntervalMs: 60_000)])
        #expect(node.relabelConfigs.first?.targetLabel == "host" && node.relabelConfigs.first?.action == .replace)
        #expect(node.metricRelabelConfigs.first?.action == .labeldrop)
        #expect(node.metricsPath == "/metrics" && node.scheme == "http" && node.honorTimestamps)
        let other = config.scrapeConfigs[1]
        #expect(other.scrapeIntervalMs == 60_000 && other.scrapeTimeoutMs == 20_000 && other.scheme == "https")
        #expect(other.scrapeProtocols == [.prometheusProto, .prometheusText0, .openMetricsText1])
        // Weighted as Prometheus weighs them; the protobuf format, which Osprey does not parse,
        // is not asked for.
        #expect(ScrapeProtocol.acceptHeader(other.scrapeProtocols) == "text/plain;version=0.0.4;q=0.6,application/openmetrics-text;version=1.0.0;q=0.5,*/*;q=0.4")
        #expect(ScrapeProtocol.acceptHeader(node.scrapeProtocols) == scrapeAcceptHeader)
    }

    @Test func parsesTheOTLPSection() throws {
        let config = try OspreyConfig.parse("""
            otlp:
              translation_strategy: NoUTF8EscapingWithSuffixes
              promote_resource_attributes: [k8s.pod.name, " region "]
              keep_identifying_resource_attributes: true
              promote_scope_metadata: true
              convert_delta_to_cumulative: false
              label_name_underscore_sanitization: true
            """, file: "osprey.yml")
        #expect(config.otlp.translationStrategy == .noUTF8EscapingWithSuffixes)
        #expect(config.otlp.promoteResourceAttributes == ["k8s.pod.name", "region"])
        #expect(config.otlp.keepIdentifyingResourceAttributes)
        #expect(config.otlp.promoteScopeMetadata)
        #expect(!config.otlp.convertDeltaToCumulative)
        let all = try OspreyConfig.parse("otlp:\n  promote_all_resource_attributes: true\n  ignore_resource_attributes: [a]\n", file: "x")
        #expect(all.otlp.promoteAllResourceAttributes && all.otlp.ignoreResourceAttributes == ["a"])
    }

    @Test func emptyFileMeansDefaults() throws {
        #expect(try OspreyConfig.parse("", file: "osprey.yml") == OspreyConfig())
        #expect(try OspreyConfig.parse("# nothing\n", file: "osprey.yml") == OspreyConfig())
    }

    @Test(arguments: [
        ("global:\n  scrape_intervall: 15s\n", 2, "global.scrape_intervall", "unknown key"),
        ("global:\n  scrape_interval: 15 seconds\n", 2, "global.scrape_interval", "invalid duration"),
        ("storage:\n  tsdb:\n    out_of_order_time_window: forever\n", 3, "storage.tsdb.out_of_order_time_window", "invalid duration"),
        ("global:\n  metric_name_validation_scheme: ascii\n", 2, "global.metric_name_validation_scheme", "invalid value"),
        ("rule_files: []\n", 1, "rule_files", "not supported"),
        ("scrape_configs:\n  - job_name: a\n    kubernetes_sd_configs: []\n", 3, "scrape_configs[0].kubernetes_sd_configs", "not supported"),
        ("scrape_configs:\n  - job_name: a\n    scrape_interval: 5s\n    scrape_timeout: 10s\n", 4, "scrape_configs[0].scrape_timeout", "greater than scrape interval"),
        ("scrape_configs:\n  - job_name: a\n  - job_name: a\n", 3, "scrape_configs[1]", "multiple scrape configs with job name"),
        ("scrape_configs:\n  - job_name: a\n    relabel_configs:\n      - action: hashmod\n        source_labels: [x]\n        target_label: y\n", 4, "scrape_configs[0].relabel_configs[0]", "non-zero modulus"),
        ("scrape_configs:\n  - job_name: a\n    relabel_configs:\n      - action: shuffle\n", 4, "scrape_configs[0].relabel_configs[0].action", "unknown relabel action"),
        ("scrape_configs:\n  - job_name: a\n    scheme: ftp\n", 3, "scrape_configs[0].scheme", "invalid scheme"),
        ("scrape_configs:\n  - job_name: a\n    basic_auth: {username: u}\n    bearer_token: t\n", 2, "scrape_configs[0]", "at most one of"),
        ("scrape_configs:\n  - job_name: a\n    static_configs:\n      - targets: ['a/b:1']\n", 4, "scrape_configs[0].static_configs[0].targets", "not a valid hostname"),
        ("scrape_configs:\n  - job_name: a\n    scrape_protocols: [OpenMetricsText1.0.0, OpenMetricsText1.0.0]\n", 3, "scrape_configs[0].scrape_protocols", "duplicated protocol"),
        ("scrape_configs:\n  - job_name: a\n    scrape_protocols: [PrometheusText9]\n", 3, "scrape_configs[0].scrape_protocols", "unknown scrape protocol"),
        ("global: [1, 2]\n", 1, "global", "expected a mapping"),
        ("global:\n  scrape_interval: 15s\n  scrape_interval: 20s\n", 3, "global.scrape_interval", "more than once"),
        ("otlp:\n  translation_strategy: Whatever\n", 2, "otlp.translation_strategy", "unsupported OTLP translation strategy"),
        ("global:\n  metric_name_validation_scheme: legacy\notlp:\n  translation_strategy: NoTranslation\n", 4, "otlp.translation_strategy", "not allowed"),
        ("otlp:\n  promote_all_resource_attributes: true\n  promote_resource_attributes: [a]\n", 2, "otlp", "mutually exclusive"),
        ("otlp:\n  ignore_resource_attributes: [a]\n", 2, "otlp", "only valid with promote_all_resource_attributes"),
        ("otlp:\n  promote_resource_attributes: [a, ' a ']\n", 2, "otlp.promote_resource_attributes", "duplicated attribute name"),
        ("otlp:\n  promote_resource_attributes: ['']\n", 2, "otlp.promote_resource_attributes", "empty attribute name"),
        ("otlp:\n  convert_histograms_to_nhcb: true\n", 2, "otlp.convert_histograms_to_nhcb", "native histograms"),
        ("otlp:\n  promote_scope: true\n", 2, "otlp.promote_scope", "unknown key"),
    ])
    func errorsNameFileLineAndKey(_ text: String, _ line: Int, _ key: String, _ message: String) {
        do {
            _ = try OspreyConfig.parse(text, file: "conf/osprey.yml")
            Issue.record("expected an error for \(text)")
        } catch {
            #expect(error.file == "conf/osprey.yml")
            #expect(error.line == line)
            #expect(error.key == key)
            #expect(error.message.contains(message), "\(error)")
            #expect(error.description.hasPrefix("conf/osprey.yml:\(line): \(key): "))
        }
    }

    @Test func invalidYAMLReportsTheLine() {
        do {
            _ = try OspreyConfig.parse("global:\n  scrape_interval: [\n", file: "x.yml")
            Issue.record("expected an error")
        } catch {
            #expect(error.line != nil)
            #expect(error.message.hasPrefix("invalid YAML"))
        }
    }

    @Test func listenAddressesParse() {
        #expect(ServerOptions.parseListenAddress("127.0.0.1:9090")! == ("127.0.0.1", 9090))
        #expect(ServerOptions.parseListenAddress(":9090")! == ("0.0.0.0", 9090))
        #expect(ServerOptions.parseListenAddress("[::1]:80")! == ("::1", 80))
        #expect(ServerOptions.parseListenAddress("localhost") == nil)
        #expect(ServerOptions.parseListenAddress("a:99999") == nil)
    }
}
