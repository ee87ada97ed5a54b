import Foundation
import Logging
import OspreyModel
package import OspreyStorage
import Synchronization

/// Scrapes one target every interval, at a stable offset within the interval (derived from
/// the target's labels, so targets spread over the interval and keep their phase across
/// restarts and reloads), and appends what it gets with the report series.
final class ScrapeLoop: Sendable {
    let target: ScrapeTarget
    let url: String
    private let client: any ScrapeClient
    private let appendable: any MetricAppendable
    private let rules: ScrapeRules
    private let bodySizeLimitBytes: Int64
    private let logger: Logger
    private let state = Mutex(TargetHealth())
    /// An error every scrape reports instead of scraping (the pool's `target_limit`).
    private let forcedError = Mutex<String?>(nil)
    private let task = Mutex<Task<(TargetSeriesCache, Int64), Never>?>(nil)

    init(target: ScrapeTarget, url: String, client: any ScrapeClient, appendable: any MetricAppendable, rules: ScrapeRules, bodySizeLimitBytes: Int64, logger: Logger) {
        self.target = target
        self.url = url
        self.client = client
        self.appendable = appendable
        self.rules = rules
        self.bodySizeLimitBytes = bodySizeLimitBytes
        self.logger = logger
    }

    var health: TargetHealth { state.withLock { $0 } }

    func setForcedError(_ message: String?) {
        forcedError.withLock { $0 = message }
    }

    /// Starts scraping.
    func start() {
        let newTask = Task { await self.run() }
        task.withLock { $0 = newTask }
    }

    /// Stops scraping; with `markingStale`, the target's series get staleness markers (the
    /// target went away), else they are left as they are (shutdown).
    ///
    /// As Prometheus' end-of-run staleness: the markers carry the time of the scrape that would
    /// have come next and are written, in the background, just over two intervals after the
    /// stop, so that a target that was only moved (a reload that brings it back, a relabelling
    /// change) has been scraped again by then and its new samples win. A target that was never
    /// scraped gets none.
    func stop(markingStale: Bool) async {
        guard let running = task.withLock({ $0 }) else { return }
        running.cancel()
        let (cache, nextScrapeMs) = await running.value
        guard markingStale, cache.hasReported else { return }
        let interval = max(1, target.scrapeIntervalMs)
        let appendable = self.appendable
        let logger = self.logger
        let url = self.url
        Task {
            let wait = nextScrapeMs + interval + interval / 10 - Self.nowMs()
            if wait > 0 { try? await Task.sleep(for: .milliseconds(wait)) }
            let appender = appendable.appender()
            cache.appendEndOfTarget(timestampMs: nextScrapeMs, to: appender)
            do throws(StorageError) {
                _ = try await appender.commit()
            } catch {
                // The storage closed meanwhile (shutdown): nothing to mark.
                guard error.code != .unavailable else { return }
                logger.warning("cannot write staleness markers for a removed target", metadata: ["target": "\(url)", "error": "\(error)"])
            }
        }
    }

    /// Scrapes until cancelled; returns the target's series cache and when the next scrape
    /// would have been.
    private func run() async -> (TargetSeriesCache, Int64) {
        let cache = TargetSeriesCache(targetLabels: target.publicLabels, rules: rules)
        let interval = max(1, target.scrapeIntervalMs)
        let offset = Int64(bitPattern: target.labels.stableHash % UInt64(interval))
        let now = Self.nowMs()
        var next = now - Self.floorMod(now, interval) + offset
        if next < now { next += interval }
        while !Task.isCancelled {
            let wait = next - Self.nowMs()
            if wait > 0 {
                do {
                    try await Task.sleep(for: .milliseconds(wait))
                } catch {
                    break
                }
            }
            await scrape(cache: cache, timestampMs: Self.nowMs())
            next += interval
            let after = Self.nowMs()
            if next <= after {
                // Missed intervals (a slow scrape or a stalled machine) are skipped, keeping the phase.
                next += ((after - next) / interval + 1) * interval
            }
        }
        return (cache, next)
    }

    private func scrape(cache: TargetSeriesCache, timestampMs: Int64) async {
        let started = ContinuousClock.now
        var appender = appendable.appender()
        var counts = ScrapeCounts()
        var failure: String?
        if let forced = forcedError.withLock({ $0 }) {
            failure = forced
        } else {
            do {
                let response = try await client.fetch(url: url, timeoutMs: target.scrapeTimeoutMs, bodySizeLimitBytes: bodySizeLimitBytes)
                do {
                    counts = try cache.appendScrape(response.body, contentType: response.contentType, timestampMs: timestampMs, to: appender)
                } catch {
                    counts = error.counts
                    failure = error.message
                }
            } catch {
                failure = error.message
            }
        }
        if failure != nil {
            appender.rollback()
            appender = appendable.appender()
            cache.appendFailedScrape(timestampMs: timestampMs, to: appender)
        }
        let elapsed = ContinuousClock.now - started
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        cache.appendReport(up: failure == nil, durationSeconds: seconds, counts: counts, timestampMs: timestampMs, to: appender)
        do {
            _ = try await appender.commit()
        } catch {
            logger.error("cannot store a scrape", metadata: ["target": "\(url)", "error": "\(error)"])
        }
        let metadata = cache.metadata
        state.withLock { health in
            health.state = failure == nil ? .up : .down
            health.lastError = failure ?? ""
            health.lastScrapeMs = timestampMs
            health.lastScrapeDurationSeconds = seconds
            if failure == nil { health.metadata = metadata }
        }
    }

    static func nowMs() -> Int64 {
        Int64((Date().timeIntervalSince1970 * 1000).rounded(.down))
    }

    private static func floorMod(_ a: Int64, _ b: Int64) -> Int64 {
        let remainder = a % b
        return remainder < 0 ? remainder + b : remainder
    }
}
