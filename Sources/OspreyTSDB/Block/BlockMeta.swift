import Foundation
package import OspreyEncoding

/// A block's `meta.json` (version 1), with Prometheus' field names; unknown fields (such as
/// Thanos' `thanos` object) are ignored on reading.
package struct BlockMeta: Codable, Hashable, Sendable {
    /// The block's ID, also its directory name.
    package var ulid: String
    /// The block covers `[minTime, maxTime)`: `maxTime` is the last sample's time + 1 (ms).
    package var minTime: Int64
    package var maxTime: Int64
    package var stats: Stats
    package var compaction: Compaction
    /// Always 1.
    package var version: Int

    /// Counts of the block's contents (all optional in the format).
    package struct Stats: Codable, Hashable, Sendable {
        package var numSamples: UInt64?
        package var numFloatSamples: UInt64?
        package var numHistogramSamples: UInt64?
        package var numSeries: UInt64?
        package var numChunks: UInt64?
        package var numTombstones: UInt64?

        package init(numSamples: UInt64? = nil, numFloatSamples: UInt64? = nil, numSeries: UInt64? = nil, numChunks: UInt64? = nil) {
            self.numSamples = numSamples
            self.numFloatSamples = numFloatSamples
            self.numSeries = numSeries
            self.numChunks = numChunks
        }
    }

    /// Where the block came from: level 1 for a block cut from the head.
    package struct Compaction: Codable, Hashable, Sendable {
        package var level: Int
        package var sources: [String]?
        package var deletable: Bool?
        package var parents: [Parent]?
        package var failed: Bool?
        package var hints: [String]?

        package init(level: Int, sources: [String]? = nil, parents: [Parent]? = nil) {
            self.level = level
            self.sources = sources
            self.parents = parents
        }
    }

    /// A block a compacted block was made from.
    package struct Parent: Codable, Hashable, Sendable {
        package var ulid: String
        package var minTime: Int64
        package var maxTime: Int64
    }

    package init(ulid: ULID, minTime: Int64, maxTime: Int64, stats: Stats, compaction: Compaction) {
        self.ulid = ulid.description
        self.minTime = minTime
        self.maxTime = maxTime
        self.stats = stats
        self.compaction = compaction
        self.version = 1
    }

    /// The JSON Prometheus writes (indented, fields in its order).
    package func encoded() throws(BlockError) -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .withoutEscapingSlashes]
        do {
            return Array(try encoder.encode(self))
        } catch {
            throw BlockError(.invalidInput, "cannot encode meta.json of block \(ulid): \(error)")
        }
    }

    /// Reads a `meta.json`; only version 1 is accepted, as in Prometheus.
    package static func decode(_ bytes: [UInt8], path: String) throws(BlockError) -> BlockMeta {
        let meta: BlockMeta
        do {
            meta = try JSONDecoder().decode(BlockMeta.self, from: Data(bytes))
        } catch {
            throw BlockError(.corrupt, "\(path): not a block meta.json: \(error)")
        }
        guard meta.version == 1 else { throw BlockError(.corrupt, "\(path): unexpected meta.json version \(meta.version), want 1") }
        return meta
    }
}
