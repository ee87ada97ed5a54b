import Foundation
import Logging
import OspreyModel
import OspreyStorage
import Synchronization

/// The targets of one job: target groups from its discovery providers, turned into targets
/// (relabelled) and a scrape loop per target. A target whose labels stay the same keeps its
/// loop (and its series cache) across updates; a target that goes away gets staleness markers.
final class ScrapePool: Sendable {
    let config: ScrapeConfig
    private let client: any ScrapeClient
    private let appendable: any MetricAppendable
    private let logger: Logger

    private struct State {
        var groupsByProvider: [String: [TargetGroup]] = [:]
        var loops: [Labels: ScrapeLoop] = [:]
        var dropped: [DroppedTargetStatus] = []
        var stopped = false
    }

    private let state = Mutex(State())
    /// Serialises `sync` calls (discovery updates arrive from several tasks).
    private let syncing = AsyncSerializer()

    init(config: ScrapeConfig, client: any ScrapeClient, appendable: any MetricAppendable, logger: Logger) {
        self.config = config
        self.client = client
        self.appendable = appendable
        self.logger = logger
    }

    /// Replaces the groups of one discovery provider and updates the loops.
    func setGroups(_ groups: [TargetGroup], provider: String) async {
        state.withLock { $0.groupsByProvider[provider] = groups }
        await sync()
    }

    /// Stops every loop; `markingStale` writes staleness markers for their series.
    func stop(markingStale: Bool) async {
        let loops = state.withLock { state in
            state.stopped = true
            defer { state.loops = [:] }
            return Array(state.loops.values)
        }
        await withTaskGroup(of: Void.self) { group in
            for loop in loops { group.addTask { await loop.stop(markingStale: markingStale) } }
        }
        await client.shutdown()
    }

    var activeTargets: [ActiveTargetStatus] {
        state.withLock { state in
            state.loops.values.map { ActiveTargetStatus(scrapePool: config.jobName, target: $0.target, scrapeURL: $0.url, health: $0.health) }
        }.sorted { $0.target.labels < $1.target.labels }
    }

    var droppedTargets: [DroppedTargetStatus] {
        state.withLock { $0.dropped }
    }

    private func sync() async {
        await syncing.run {
            let groups = self.state.withLock { state in
                state.groupsByProvider.keys.sorted().flatMap { state.groupsByProvider[$0] ?? [] }
            }
            var wanted: [ScrapeTarget] = []
            var seen: Set<Labels> = []
            var dropped: [DroppedTargetStatus] = []
            for group in groups {
                for outcome in ScrapeTarget.targets(from: group, config: self.config) {
                    switch outcome {
                    case .active(let target):
                        if seen.insert(target.labels).inserted { wanted.append(target) }
                    case .dropped(let labels):
                        dropped.append(DroppedTargetStatus(scrapePool: self.config.jobName, discoveredLabels: labels, reason: nil))
                    case .invalid(let labels, let reason):
                        self.logger.warning("invalid target", metadata: ["job": "\(self.config.jobName)", "labels": "\(labels.braced)", "reason": "\(reason)"])
                        dropped.append(DroppedTargetStatus(scrapePool: self.config.jobName, discoveredLabels: labels, reason: reason))
                    }
                }
            }
            let (started, removed) = self.state.withLock { state -> ([ScrapeLoop], [ScrapeLoop]) in
                guard !state.stopped else { return ([], []) }
                state.dropped = dropped
                var started: [ScrapeLoop] = []
                var removed: [ScrapeLoop] = []
                for target in wanted where state.loops[target.labels] == nil {
                    let loop = ScrapeLoop(
                        target: target, url: target.url(params: self.config.params), client: self.client, appendable: self.appendable,
                        rules: ScrapeRules(self.config), bodySizeLimitBytes: self.config.bodySizeLimitBytes, logger: self.logger)
                    state.loops[target.labels] = loop
                    started.append(loop)
                }
                for (labels, loop) in state.loops where !seen.contains(labels) {
                    state.loops[labels] = nil
                    removed.append(loop)
                }
                // Over target_limit, every target reports the error instead of scraping.
                let limit = self.config.targetLimit
                let forced = limit > 0 && state.loops.count > limit
                    ? "target_limit exceeded (number of targets: \(state.loops.count), limit: \(limit))" : nil
                for loop in state.loops.values { loop.setForcedError(forced) }
                return (started, removed)
            }
            for loop in started { loop.start() }
            await withTaskGroup(of: Void.self) { group in
                for loop in removed { group.addTask { await loop.stop(markingStale: true) } }
            }
        }
    }
}

/// Runs async operations one at a time, in the order they arrive.
final class AsyncSerializer: Sendable {
    private let tail = Mutex<Task<Void, Never>?>(nil)

    func run(_ operation: @escaping @Sendable () async -> Void) async {
        let task = tail.withLock { tail -> Task<Void, Never> in
            let previous = tail
            let next = Task {
                await previous?.value
                await operation()
            }
            tail = next
            return next
        }
        await task.value
    }
}
