import Foundation
package import OspreyModel

/// A target's state as the targets API shows it.
package struct TargetHealth: Hashable, Sendable {
    package enum State: String, Hashable, Sendable { case up, down, unknown }
    package var state: State = .unknown
    package var lastError = ""
    /// When the last scrape started (ms since the epoch; 0 = never).
    package var lastScrapeMs: Int64 = 0
    package var lastScrapeDurationSeconds: Double = 0
    /// Type, help and unit by family, from the last scrape.
    package var metadata: [String: MetricMetadata] = [:]
    package init() {}
}

/// One active target and its health, for the targets and metadata APIs.
package struct ActiveTargetStatus: Sendable {
    package var scrapePool: String
    package var target: ScrapeTarget
    package var scrapeURL: String
    package var health: TargetHealth
}

/// One target relabelling dropped (or that is invalid), for the targets API.
package struct DroppedTargetStatus: Sendable {
    package var scrapePool: String
    package var discoveredLabels: Labels
    package var reason: String?
}
