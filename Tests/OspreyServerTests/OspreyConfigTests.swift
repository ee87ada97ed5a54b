import OspreyModel
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

    @Test func emptyFileMeansDefaults() throws {
        #expect(try OspreyConfig.parse("", file: "osprey.yml") == OspreyConfig())
        #expect(try OspreyConfig.parse("# nothing\n", file: "osprey.yml") == OspreyConfig())
    }

    @Test(arguments: [
        ("global:\n  scrape_intervall: 15s\n", 2, "global.scrape_intervall", "unknown key"),
        ("global:\n  scrape_interval: 15 seconds\n", 2, "global.scrape_interval", "invalid duration"),
        ("storage:\n  tsdb:\n    out_of_order_time_window: forever\n", 3, "storage.tsdb.out_of_order_time_window", "invalid duration"),
        ("global:\n  metric_name_validation_scheme: ascii\n", 2, "global.metric_name_validation_scheme", "invalid value"),
        ("scrape_configs: []\n", 1, "scrape_configs", "not supported"),
        ("global: [1, 2]\n", 1, "global", "expected a mapping"),
        ("global:\n  scrape_interval: 15s\n  scrape_interval: 20s\n", 3, "global.scrape_interval", "more than once"),
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
