import Foundation
package import Logging
import OspreyEncoding
package import OspreyModel
package import OspreyStorage
import Synchronization

/// An immutable block on disk, opened for reading: `meta.json` parsed, `index` and the chunk
/// segments mapped into memory (their pages read by the kernel on demand).
package final class Block: Sendable {
    package let directory: String
    package let meta: BlockMeta
    let index: IndexReader
    private let segments: [MappedFile]
    private let logger: Logger
    private let damageReported = Atomic<Bool>(false)
    /// Deleted ranges per series reference (the `tombstones` file).
    private let tombstones: Mutex<[UInt64: DeletedIntervals]>

    /// Opens the block in `directory`; a missing or damaged part is an error naming the block.
    /// Damage found later, when chunks are read, is logged to `logger` (once per block).
    package init(directory: String, logger: Logger = Logger(label: "osprey.tsdb.block")) throws(BlockError) {
        self.directory = directory
        self.logger = logger
        let metaPath = BlockFiles.join(directory, "meta.json")
        let metaFile = try BlockFiles.map(metaPath)
        meta = try BlockMeta.decode(Array(metaFile.bytes), path: metaPath)
        index = try IndexReader(path: BlockFiles.join(directory, "index"))
        let chunksDirectory = BlockFiles.join(directory, "chunks")
        let names = ((try? FileManager.default.contentsOfDirectory(atPath: chunksDirectory)) ?? [])
            .filter { !$0.isEmpty && $0.allSatisfy(\.isNumber) }.sorted()
        var segments: [MappedFile] = []
        for name in names {
            let segment = try BlockFiles.map(BlockFiles.join(chunksDirectory, name))
            guard segment.bytes.count >= 8, IndexReader.bigEndian32(segment.bytes, 0) == ChunkSegmentWriter.magic else {
                throw BlockError(.corrupt, "\(segment.path): not a chunk segment")
            }
            segments.append(segment)
        }
        self.segments = segments
        let tombstonesPath = BlockFiles.join(directory, Tombstones.fileName)
        if FileManager.default.fileExists(atPath: tombstonesPath) {
            let file = try BlockFiles.map(tombstonesPath)
            tombstones = Mutex(try Tombstones.decode(file.bytes, path: tombstonesPath))
        } else {
            tombstones = Mutex([:])
        }
    }

    /// The deleted ranges per series reference.
    package var deletedIntervals: [UInt64: DeletedIntervals] { tombstones.withLock { $0 } }

    /// Whether the block has tombstones.
    package var hasTombstones: Bool { tombstones.withLock { !$0.isEmpty } }

    /// Adds tombstones deleting `[minTimeMs, maxTimeMs]` of the series matching any of
    /// `matcherSets` (each clamped to the series' own range, as Prometheus does), writes the
    /// `tombstones` file (a new file renamed over the old) and the tombstone count into
    /// `meta.json`, then makes them visible to readers. Returns the number of series affected.
    @discardableResult
    package func delete(matcherSets: [[LabelMatcher]], minTimeMs: Int64, maxTimeMs: Int64) throws(BlockError) -> Int {
        guard minTimeMs <= maxTimeMs, meta.minTime <= maxTimeMs, meta.maxTime > minTimeMs else { return 0 }
        var updated = deletedIntervals
        var affected = 0
        var seen = Set<UInt64>()
        for matchers in matcherSets {
            for reference in try index.postings(matching: matchers) where seen.insert(reference).inserted {
                let chunks = try index.series(reference).chunks
                guard let first = chunks.first, let last = chunks.last,
                    chunks.contains(where: { $0.minTimeMs <= maxTimeMs && $0.maxTimeMs >= minTimeMs })
                else { continue }
                let low = max(minTimeMs, first.minTimeMs)
                let high = min(maxTimeMs, last.maxTimeMs)
                guard low <= high, !(updated[reference]?.covers(low, high) ?? false) else { continue }
                updated[reference, default: DeletedIntervals()].add(low...high)
                affected += 1
            }
        }
        guard affected > 0 else { return 0 }
        try writeTombstones(updated)
        tombstones.withLock { $0 = updated }
        return affected
    }

    /// Replaces the `tombstones` file and records the count in `meta.json`, each through a
    /// temporary file renamed into place.
    private func writeTombstones(_ deleted: [UInt64: DeletedIntervals]) throws(BlockError) {
        let path = BlockFiles.join(directory, Tombstones.fileName)
        try BlockFiles.write(Tombstones.encode(deleted), to: path + ".tmp")
        try BlockFiles.rename(path + ".tmp", path)
        var updatedMeta = meta
        updatedMeta.stats.numTombstones = UInt64(deleted.values.reduce(0) { $0 + $1.ranges.count })
        let metaPath = BlockFiles.join(directory, "meta.json")
        try BlockFiles.write(try updatedMeta.encoded(), to: metaPath + ".tmp")
        try BlockFiles.rename(metaPath + ".tmp", metaPath)
        try BlockFiles.syncDirectory(directory)
    }

    /// Logs that a chunk of this block cannot be read (the first time only): the series'
    /// samples end there, the rest of the block is still read.
    func reportDamage(_ error: BlockError) {
        guard !damageReported.exchange(true, ordering: .relaxed) else { return }
        logger.error("block is damaged: series that need its broken chunks end early", metadata: ["block": "\(meta.ulid)", "error": "\(error)"])
    }

    /// Cardinality and churn facts of the block's index, as `promtool tsdb analyze` prints
    /// them. Churn: per series, the part of the block's range its chunks do not cover, summed
    /// per label pair and per label name, in block ranges.
    package func analysis(limit: Int) throws(BlockError) -> BlockAnalysis {
        let pairs = try index.postingsCounts()
        let labelPairs = pairs.filter { !$0.name.isEmpty }
        var valuesPerName: [String: Int] = [:]
        var valueLengthPerName: [String: Int] = [:]
        for pair in labelPairs {
            valuesPerName[pair.name, default: 0] += 1
            valueLengthPerName[pair.name, default: 0] += pair.value.utf8.count
        }
        let range = max(1, meta.maxTime - meta.minTime)
        var uncoveredPerPair: [String: Int64] = [:]
        var uncoveredPerName: [String: Int64] = [:]
        for reference in try index.postings(matching: []) {
            let entry = try index.series(reference)
            guard let first = entry.chunks.first, let last = entry.chunks.last else { continue }
            let uncovered = max(0, range - (last.maxTimeMs - first.minTimeMs))
            for label in entry.labels {
                uncoveredPerPair["\(label.name)=\(label.value)", default: 0] += uncovered
                uncoveredPerName[label.name, default: 0] += uncovered
            }
        }
        func top(_ list: [(String, Int)]) -> [(String, Int)] {
            Array(list.sorted { $0.1 != $1.1 ? $0.1 > $1.1 : $0.0 < $1.0 }.prefix(limit))
        }
        func inRanges(_ totals: [String: Int64]) -> [(String, Int)] {
            totals.map { ($0.key, Int(Double($0.value) / Double(range))) }
        }
        return BlockAnalysis(
            series: pairs.first { $0.name.isEmpty }?.count ?? 0,
            labelNames: valuesPerName.count,
            uniqueLabelPairs: labelPairs.count,
            totalLabelPairs: labelPairs.reduce(0) { $0 + $1.count },
            churningLabelPairs: top(inRanges(uncoveredPerPair)),
            churningLabelNames: top(inRanges(uncoveredPerName)),
            mostCommonLabelPairs: top(labelPairs.map { ("\($0.name)=\($0.value)", $0.count) }),
            longestLabelValues: top(valueLengthPerName.map { ($0.key, $0.value) }),
            highestCardinalityLabels: top(valuesPerName.map { ($0.key, $0.value) }),
            highestCardinalityMetricNames: top(labelPairs.filter { $0.name == Labels.metricNameLabel }.map { ($0.value, $0.count) })
        )
    }

    /// A querier over `[minTimeMs, maxTimeMs]`.
    package func querier(minTimeMs: Int64, maxTimeMs: Int64) -> BlockQuerier {
        BlockQuerier(block: self, minTimeMs: minTimeMs, maxTimeMs: maxTimeMs)
    }

    /// The XOR chunk at `reference`, its CRC checked, copied out of the mapping.
    func chunk(_ reference: UInt64) throws(BlockError) -> [UInt8] {
        let segmentIndex = Int(reference >> 32)
        let offset = Int(reference & 0xFFFF_FFFF)
        guard segmentIndex < segments.count else { throw BlockError(.corrupt, "\(directory): chunk reference \(reference) names a missing segment") }
        let bytes = segments[segmentIndex].bytes
        guard offset >= 8, offset < bytes.count else { throw BlockError(.corrupt, "\(segments[segmentIndex].path): chunk offset \(offset) outside the segment") }
        var reader = ByteReader(UnsafeRawBufferPointer(rebasing: bytes[offset...]), baseOffset: offset)
        let length: Int
        do {
            length = Int(try reader.readUVarint())
        } catch {
            throw BlockError(.corrupt, "\(segments[segmentIndex].path): \(error)")
        }
        let start = offset + reader.offset
        guard start + 1 + length + 4 <= bytes.count else { throw BlockError(.corrupt, "\(segments[segmentIndex].path): chunk at \(offset) runs past the end of the segment") }
        let encodingAndData = UnsafeRawBufferPointer(rebasing: bytes[start..<(start + 1 + length)])
        guard CRC32C.checksum(encodingAndData) == IndexReader.bigEndian32(bytes, start + 1 + length) else {
            throw BlockError(.corrupt, "\(segments[segmentIndex].path): chunk at \(offset) fails its checksum")
        }
        guard bytes[start] == ChunkSegmentWriter.xorEncoding else {
            throw BlockError(.corrupt, "\(segments[segmentIndex].path): chunk at \(offset) has encoding \(bytes[start]); only XOR (1) is read")
        }
        return Array(UnsafeRawBufferPointer(rebasing: encodingAndData[1...]))
    }
}

/// Reads a block over a time range (the block's ``MetricQuerier``).
package final class BlockQuerier: MetricQuerier {
    private let block: Block
    private let minTimeMs: Int64
    private let maxTimeMs: Int64

    init(block: Block, minTimeMs: Int64, maxTimeMs: Int64) {
        self.block = block
        self.minTimeMs = minTimeMs
        self.maxTimeMs = maxTimeMs
    }

    package func select(sorted: Bool, hints: SelectHints?, matchers: [LabelMatcher]) throws(StorageError) -> any SeriesSet {
        let low = max(minTimeMs, hints?.startMs ?? .min)
        let high = min(maxTimeMs, hints?.endMs ?? .max)
        var result: [any StoredSeries] = []
        let tombstones = block.deletedIntervals
        do {
            // References ascend in label order: the result is sorted already.
            for reference in try block.index.postings(matching: matchers) {
                let entry = try block.index.series(reference)
                var chunks = entry.chunks.filter { $0.maxTimeMs >= low && $0.minTimeMs <= high }
                let deleted = tombstones[reference] ?? DeletedIntervals()
                if !deleted.isEmpty {
                    // Series whose samples in range are all deleted are not returned, not
                    // even by a series-only selection.
                    chunks.removeAll { deleted.covers(max($0.minTimeMs, low), min($0.maxTimeMs, high)) }
                    guard !chunks.isEmpty else { continue }
                    let series = BlockStoredSeries(labels: entry.labels, block: block, chunks: chunks, minTimeMs: low, maxTimeMs: high, deleted: deleted)
                    guard series.iterator(reusing: nil).next() != .none else { continue }
                    result.append(series)
                } else {
                    guard !chunks.isEmpty else { continue }
                    result.append(BlockStoredSeries(labels: entry.labels, block: block, chunks: hints?.seriesOnly == true ? [] : chunks, minTimeMs: low, maxTimeMs: high))
                }
                if let limit = hints?.limit, limit > 0, result.count >= limit { break }
            }
        } catch {
            throw StorageError(code: .io, message: "block \(block.meta.ulid): \(error)")
        }
        return ArraySeriesSet(result)
    }

    package func labelValues(_ name: String, matchers: [LabelMatcher], limit: Int) throws(StorageError) -> [String] {
        var values: [String]
        if matchers.isEmpty && !block.hasTombstones {
            values = block.index.labelValues(name)
        } else {
            var set = Set<String>()
            let series = try select(sorted: false, hints: SelectHints(startMs: minTimeMs, endMs: maxTimeMs, seriesOnly: true), matchers: matchers)
            while let one = try series.next() { if let value = one.labels[name] { set.insert(value) } }
            values = set.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
        }
        if limit > 0 && values.count > limit { values.removeLast(values.count - limit) }
        return values
    }

    package func labelNames(matchers: [LabelMatcher], limit: Int) throws(StorageError) -> [String] {
        var names: [String]
        if matchers.isEmpty && !block.hasTombstones {
            names = block.index.labelNames
        } else {
            var set = Set<String>()
            let series = try select(sorted: false, hints: SelectHints(startMs: minTimeMs, endMs: maxTimeMs, seriesOnly: true), matchers: matchers)
            while let one = try series.next() { for label in one.labels.labels { set.insert(label.name) } }
            names = set.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
        }
        if limit > 0 && names.count > limit { names.removeLast(names.count - limit) }
        return names
    }

    package func close() {}
}

/// One series of a block: its chunks are read (and checked) when its samples are.
final class BlockStoredSeries: StoredSeries, Sendable {
    let labels: Labels
    private let block: Block
    private let chunks: [IndexWriter.ChunkMeta]
    private let minTimeMs: Int64
    private let maxTimeMs: Int64
    /// The series' tombstones in the block.
    private let deleted: DeletedIntervals

    init(labels: Labels, block: Block, chunks: [IndexWriter.ChunkMeta], minTimeMs: Int64, maxTimeMs: Int64, deleted: DeletedIntervals = DeletedIntervals()) {
        self.labels = labels
        self.block = block
        self.chunks = chunks
        self.minTimeMs = minTimeMs
        self.maxTimeMs = maxTimeMs
        self.deleted = deleted
    }

    /// The chunks' bytes. The sample iterator contract has no error channel: a chunk that
    /// cannot be read or fails its checksum ends the series' samples there, and the block's
    /// damage is logged with its ID.
    private var headChunks: [HeadChunk] {
        var out: [HeadChunk] = []
        out.reserveCapacity(chunks.count)
        for chunk in chunks {
            do {
                out.append(HeadChunk(minTimeMs: chunk.minTimeMs, maxTimeMs: chunk.maxTimeMs, bytes: try block.chunk(chunk.ref)))
            } catch {
                block.reportDamage(error)
                break
            }
        }
        return out
    }

    func iterator(reusing previous: (any SampleIterator)?) -> any SampleIterator {
        let iterator = HeadSampleIterator(snapshot: SeriesSnapshot(chunks: headChunks, outOfOrder: []), minTimeMs: minTimeMs, maxTimeMs: maxTimeMs)
        return deleted.isEmpty ? iterator : DeletionSkippingIterator(iterator, deleted: deleted)
    }

    func appendFloats(to buffer: inout [Sample]) {
        let start = buffer.count
        HeadSampleIterator.appendChunks(headChunks, minTimeMs: minTimeMs, maxTimeMs: maxTimeMs, to: &buffer)
        deleted.remove(from: &buffer, startingAt: start)
    }
}

/// What `osprey tsdb analyze` reports about a block.
package struct BlockAnalysis: Sendable {
    package var series: Int
    package var labelNames: Int
    package var uniqueLabelPairs: Int
    package var totalLabelPairs: Int
    /// `name=value` and the block ranges its series leave uncovered in all, most first.
    package var churningLabelPairs: [(String, Int)]
    /// Label names and the block ranges their series leave uncovered in all, most first.
    package var churningLabelNames: [(String, Int)]
    /// `name=value` and the series carrying it, most first.
    package var mostCommonLabelPairs: [(String, Int)]
    /// Label names and the summed length of their values (bytes), most first.
    package var longestLabelValues: [(String, Int)]
    /// Label names and their number of values, most first.
    package var highestCardinalityLabels: [(String, Int)]
    /// Metric names and their number of series, most first.
    package var highestCardinalityMetricNames: [(String, Int)]
}

extension Block {
    /// Drops the block's mapped pages (index and chunk segments) from the process; they stay
    /// in the page cache and are mapped again when read.
    func releaseResidentPages() {
        index.releaseResidentPages()
        for segment in segments { segment.releaseResidentPages() }
    }
}
