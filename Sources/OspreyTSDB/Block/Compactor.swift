import Foundation
import OspreyStorage
import OspreyEncoding
import OspreyModel

/// Merges adjacent blocks into larger ones (Prometheus' leveled compaction): ranges grow by
/// threes from the head's block range (2 h → 6 h → 18 h → 54 h …) up to a tenth of the
/// retention (at most 31 d). A group is merged once blocks cover its whole range, or once a
/// newer block exists after it; the newest block is never compacted right away, as in
/// Prometheus. Series' chunks are carried over as they are. Blocks that overlap (out-of-order
/// data, backfill) are merged first, sample by sample (vertical compaction).
package enum Compactor {
    /// The compaction ranges for a block range and a retention.
    package static func ranges(blockRangeMs: Int64, retentionMs: Int64) -> [Int64] {
        let limit = min(max(retentionMs / 10, blockRangeMs), 31 * 24 * 3_600_000)
        var out = [blockRangeMs]
        while let last = out.last, last * 3 <= limit { out.append(last * 3) }
        return out
    }

    /// The next group of blocks to merge, oldest first; nil when there is none. `blocks` are
    /// sorted by time.
    package static func plan(_ blocks: [BlockMeta], ranges: [Int64]) -> [BlockMeta]? {
        guard blocks.count > 1 else { return nil }
        // Overlapping blocks (out-of-order data, backfill) first: merged into one, sample by
        // sample, as Prometheus' vertical compaction does.
        var group: [BlockMeta] = []
        var groupEnd = Int64.min
        for meta in blocks {
            if !group.isEmpty && meta.minTime < groupEnd {
                group.append(meta)
            } else {
                if group.count > 1 { return group }
                group = [meta]
            }
            groupEnd = max(group.count == 1 ? meta.maxTime : groupEnd, meta.maxTime)
        }
        if group.count > 1 { return group }
        // Then adjacent blocks (none overlaps another by now), never the newest.
        let candidates = blocks.dropLast()
        for range in ranges.dropFirst() {
            var groups: [Int64: [BlockMeta]] = [:]
            for meta in candidates {
                let start = floorDivision(meta.minTime, range) * range
                // Only blocks that fit inside one aligned range of this size.
                guard meta.maxTime <= start + range else { continue }
                groups[start, default: []].append(meta)
            }
            for start in groups.keys.sorted() {
                guard let group = groups[start], group.count > 1, let first = group.first, let last = group.last else { continue }
                let covered = first.minTime == start && last.maxTime == start + range
                let superseded = blocks.contains { $0.minTime >= start + range }
                if covered || superseded { return group }
            }
        }
        return nil
    }

    /// Writes the merged block of `sources` (sorted by time) into `directory`; the sources are
    /// left for the caller to drop. Adjacent blocks keep their chunks; overlapping ones are
    /// merged sample by sample (a timestamp present twice kept once, from the earlier block)
    /// and re-encoded in chunks of `samplesPerChunk`. The sources' tombstones are applied:
    /// deleted samples are left out (their series' chunks re-encoded) and the new block has
    /// none. The new block's level is one above the sources' unless `level` is given. Returns
    /// nil, writing nothing, when no sample remains.
    package static func merge(_ sources: [Block], into directory: String, samplesPerChunk: Int = 120, level: Int? = nil) throws(BlockError) -> BlockMeta? {
        let overlapping = zip(sources, sources.dropFirst()).contains { $1.meta.minTime < $0.meta.maxTime }
        var chunksBySeries: [Labels: [HeadChunk]] = [:]
        for block in sources {
            let tombstones = block.deletedIntervals
            let references = try block.index.postings(matching: [])
            for reference in references {
                let entry = try block.index.series(reference)
                var chunks: [HeadChunk] = []
                for chunk in entry.chunks {
                    chunks.append(HeadChunk(minTimeMs: chunk.minTimeMs, maxTimeMs: chunk.maxTimeMs, bytes: try block.chunk(chunk.ref)))
                }
                if let deleted = tombstones[reference], !deleted.isEmpty {
                    var samples: [Sample] = []
                    HeadSampleIterator.appendChunks(chunks, minTimeMs: .min, maxTimeMs: .max, to: &samples)
                    deleted.remove(from: &samples)
                    chunks = HeadChunk.encode(samples, samplesPerChunk: samplesPerChunk)
                }
                guard !chunks.isEmpty else { continue }
                chunksBySeries[entry.labels, default: []].append(contentsOf: chunks)
            }
        }
        guard !chunksBySeries.isEmpty else { return nil }
        if overlapping {
            for (labels, chunks) in chunksBySeries {
                chunksBySeries[labels] = reencoded(chunks, samplesPerChunk: samplesPerChunk)
            }
        }
        let labels = Array(chunksBySeries.keys)
        let series = Labels.sortedOrder(labels).map { BlockWriter.Series(labels: labels[$0], chunks: chunksBySeries[labels[$0]] ?? []) }
        let metas = sources.map(\.meta)
        let sourceIDs = Array(Set(metas.flatMap { $0.compaction.sources ?? [$0.ulid] })).sorted()
        return try BlockWriter.write(
            series, minTimeMs: metas.map(\.minTime).min() ?? 0, maxTimeMs: metas.map(\.maxTime).max() ?? 0, into: directory,
            level: level ?? (metas.map(\.compaction.level).max() ?? 1) + 1, sources: sourceIDs,
            parents: metas.map { BlockMeta.Parent(ulid: $0.ulid, minTime: $0.minTime, maxTime: $0.maxTime) }
        )
    }

    /// Chunks that may overlap (from several blocks, in block order) as non-overlapping
    /// chunks: samples sorted by time, a timestamp kept once (its first occurrence).
    private static func reencoded(_ chunks: [HeadChunk], samplesPerChunk: Int) -> [HeadChunk] {
        var merged: [Sample] = []
        for chunk in chunks {
            var samples: [Sample] = []
            HeadSampleIterator.appendChunks([chunk], minTimeMs: .min, maxTimeMs: .max, to: &samples)
            // The earlier chunk's sample wins a tie.
            merged = Sample.mergedByTime(merged, samples)
        }
        return HeadChunk.encode(merged, samplesPerChunk: samplesPerChunk)
    }

    private static func floorDivision(_ a: Int64, _ b: Int64) -> Int64 {
        let quotient = a / b
        return (a % b != 0 && (a < 0) != (b < 0)) ? quotient - 1 : quotient
    }
}
