import Logging
import OspreyIngest
import OspreyScrape
import ServiceLifecycle
import UnixSignals

/// Reloads the configuration file (on SIGHUP and `POST /-/reload`): a valid file replaces
/// the scrape jobs (unchanged jobs keep their targets' state); an invalid one is rejected with
/// its error and the running configuration stays. Settings read only at start (storage,
/// flags) need a restart.
final class ConfigReloader: Sendable {
    private let options: ServerOptions
    private let manager: ScrapeManager
    private let logger: Logger
    private let otlp: OTLPReceiver?

    init(options: ServerOptions, manager: ScrapeManager, otlp: OTLPReceiver?, logger: Logger) {
        self.options = options
        self.manager = manager
        self.otlp = otlp
        self.logger = logger
    }

    /// Reloads; throws a message naming the file, line and key of the problem.
    func reload() async throws {
        do {
            let config = try OspreyServer.loadConfig(options, logger: logger)
            try await manager.apply(OspreyServer.scrapeJobs(config, options: options))
            otlp?.update(options: OspreyServer.otlpOptions(config, options: options))
            logger.info("configuration reloaded", metadata: ["file": "\(options.configFile)"])
        } catch {
            logger.error("configuration reload failed; the previous configuration stays in effect", metadata: ["error": "\(error)"])
            throw error
        }
    }
}

/// Reloads the configuration on every SIGHUP.
struct ReloadSignalService: Service {
    let reloader: ConfigReloader

    func run() async throws {
        for await _ in await UnixSignalsSequence(trapping: .sighup).cancelOnGracefulShutdown() {
            try? await reloader.reload()
        }
    }
}
