import Logging
import OspreyModel
import OspreyScrape
import ServiceLifecycle

/// Runs the scrape jobs from the configuration (and Osprey's own `osprey` job) until
/// shutdown; their series are left as they are (no staleness markers) when the server stops.
struct ScrapeService: Service {
    let manager: ScrapeManager
    let configs: [ScrapeConfig]

    func run() async throws {
        try await manager.apply(configs)
        try? await gracefulShutdown()
        await manager.shutdown()
    }
}

extension OspreyServer {
    /// The job scraping Osprey's own `/metrics`, unless the configuration has a job of that name.
    static func selfMonitoringJob(host: String, port: Int, global: OspreyConfig.Global) -> ScrapeConfig {
        var job = ScrapeConfig(jobName: "osprey", scrapeIntervalMs: global.scrapeIntervalMs, scrapeTimeoutMs: min(global.scrapeTimeoutMs, global.scrapeIntervalMs))
        let address = host == "0.0.0.0" || host == "::" || host.isEmpty ? "localhost" : (host.contains(":") ? "[\(host)]" : host)
        job.staticConfigs = [TargetGroup(targets: ["\(address):\(port)"])]
        job.nameValidation = global.metricNameValidationScheme
        return job
    }

    /// The scrape jobs to run for `config`.
    static func scrapeJobs(_ config: OspreyConfig, options: ServerOptions) -> [ScrapeConfig] {
        var jobs = config.scrapeConfigs
        if options.selfMonitoring && !jobs.contains(where: { $0.jobName == "osprey" }) {
            jobs.append(selfMonitoringJob(host: options.listenHost, port: options.listenPort, global: config.global))
        }
        return jobs
    }
}

/// Appends the pushed groups every scrape interval until shutdown.
struct PushedGroupsService: Service {
    let groups: PushedGroups

    func run() async throws {
        await cancelWhenGracefulShutdown {
            await groups.run()
        }
    }
}
