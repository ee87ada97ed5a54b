import Foundation
package import Logging
import OspreyModel
package import OspreyStorage
import Synchronization

/// Runs the scrape pools of the configured jobs and their discovery: static groups at once,
/// file discovery re-read when a file changes (checked every few seconds) and every refresh
/// interval. ``apply(_:)`` reloads: unchanged jobs keep their loops and state, changed jobs
/// restart their loops, removed jobs' series get staleness markers.
package final class ScrapeManager: Sendable {
    /// Makes a job's client.
    package typealias ClientFactory = @Sendable (ScrapeConfig) throws(ScrapeFetchError) -> any ScrapeClient

    private struct Job {
        var pool: ScrapePool
        var discovery: [Task<Void, Never>]
    }

    private let appendable: any MetricAppendable
    private let logger: Logger
    private let makeClient: ClientFactory
    private let jobs = Mutex<[String: Job]>([:])
    private let applying = AsyncSerializer()
    /// How often discovery files are checked for changes.
    private let fileCheckInterval: Duration

    package init(appendable: any MetricAppendable, logger: Logger, fileCheckInterval: Duration = .seconds(5), makeClient: @escaping ClientFactory) {
        self.appendable = appendable
        self.logger = logger
        self.fileCheckInterval = fileCheckInterval
        self.makeClient = makeClient
    }

    /// Applies a configuration's scrape jobs. Throws (changing nothing) when a job's client
    /// cannot be made (an unreadable TLS file, a bad proxy URL).
    package func apply(_ configs: [ScrapeConfig]) async throws(ScrapeFetchError) {
        var clients: [String: any ScrapeClient] = [:]
        let current = jobs.withLock { $0 }
        for config in configs where current[config.jobName]?.pool.config != config {
            clients[config.jobName] = try makeClient(config)
        }
        let madeClients = clients
        await applying.run {
            let wanted = Set(configs.map(\.jobName))
            let (removed, started) = self.jobs.withLock { jobs -> ([(Job, Bool)], [ScrapePool]) in
                var removed: [(Job, Bool)] = []
                var started: [ScrapePool] = []
                for (name, job) in jobs where !wanted.contains(name) {
                    removed.append((job, true))
                    jobs[name] = nil
                }
                for config in configs {
                    guard let client = madeClients[config.jobName] else { continue }
                    if let old = jobs[config.jobName] { removed.append((old, false)) }
                    let pool = ScrapePool(config: config, client: client, appendable: self.appendable, logger: self.logger)
                    jobs[config.jobName] = Job(pool: pool, discovery: [])
                    started.append(pool)
                }
                return (removed, started)
            }
            for (job, markingStale) in removed {
                for task in job.discovery { task.cancel() }
                await job.pool.stop(markingStale: markingStale)
            }
            for pool in started {
                let tasks = self.startDiscovery(for: pool)
                self.jobs.withLock { jobs in
                    if jobs[pool.config.jobName]?.pool === pool { jobs[pool.config.jobName]?.discovery = tasks } else { tasks.forEach { $0.cancel() } }
                }
            }
        }
    }

    /// Stops every job without staleness markers (the server is shutting down).
    package func shutdown() async {
        await applying.run {
            let all = self.jobs.withLock { jobs in
                defer { jobs = [:] }
                return Array(jobs.values)
            }
            for job in all {
                for task in job.discovery { task.cancel() }
                await job.pool.stop(markingStale: false)
            }
        }
    }

    /// Active targets of every job, by job.
    package var activeTargets: [ActiveTargetStatus] {
        pools.flatMap(\.activeTargets)
    }

    /// Targets relabelling dropped, by job.
    package var droppedTargets: [DroppedTargetStatus] {
        pools.flatMap(\.droppedTargets)
    }

    /// The configured job names, sorted.
    package var scrapePools: [String] {
        jobs.withLock { $0.keys.sorted() }
    }

    private var pools: [ScrapePool] {
        jobs.withLock { jobs in jobs.keys.sorted().compactMap { jobs[$0]?.pool } }
    }

    private func startDiscovery(for pool: ScrapePool) -> [Task<Void, Never>] {
        var tasks: [Task<Void, Never>] = []
        let statics = pool.config.staticConfigs.enumerated().map { index, group in
            TargetGroup(targets: group.targets, labels: group.labels, source: "\(index)")
        }
        tasks.append(Task { await pool.setGroups(statics, provider: "static") })
        for (index, fileConfig) in pool.config.fileSDConfigs.enumerated() {
            let interval = fileCheckInterval
            let logger = logger
            tasks.append(Task {
                await Self.watch(fileConfig, provider: "file/\(index)", pool: pool, checkEvery: interval, logger: logger)
            })
        }
        return tasks
    }

    /// Reads the files when they change (name, size or modification time) and every refresh
    /// interval; a file that cannot be read or parsed keeps its last good groups.
    private static func watch(_ config: ScrapeConfig.FileSDConfig, provider: String, pool: ScrapePool, checkEvery: Duration, logger: Logger) async {
        var lastSignature: [String: String]?
        var lastGood: [String: [TargetGroup]] = [:]
        var lastRead = ContinuousClock.now
        while !Task.isCancelled {
            let files = FileDiscovery.files(matching: config.files)
            var signature: [String: String] = [:]
            for file in files {
                let attributes = try? FileManager.default.attributesOfItem(atPath: file)
                let size = (attributes?[.size] as? NSNumber)?.int64Value ?? -1
                let modified = (attributes?[.modificationDate] as? Date)?.timeIntervalSince1970 ?? 0
                signature[file] = "\(size)/\(modified)"
            }
            let refreshDue = ContinuousClock.now - lastRead >= .milliseconds(config.refreshIntervalMs)
            if signature != lastSignature || refreshDue {
                var groups: [String: [TargetGroup]] = [:]
                for file in files {
                    do {
                        groups[file] = try FileDiscovery.groups(inFile: file)
                    } catch {
                        logger.error("cannot read a file_sd file; keeping its last targets", metadata: ["job": "\(pool.config.jobName)", "error": "\(error)"])
                        groups[file] = lastGood[file] ?? []
                    }
                }
                lastGood = groups
                lastSignature = signature
                lastRead = ContinuousClock.now
                await pool.setGroups(groups.keys.sorted().flatMap { groups[$0] ?? [] }, provider: provider)
            }
            do {
                try await Task.sleep(for: checkEvery)
            } catch {
                return
            }
        }
    }
}
