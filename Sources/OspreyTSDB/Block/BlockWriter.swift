import Foundation
package import OspreyEncoding
package import OspreyModel

/// Writes a block directory in Prometheus' TSDB block format (`docs/formats/block.md`):
/// `chunks/`, `index`, `tombstones` and `meta.json`, built in `<ULID>.tmp-for-creation`,
/// fsynced, then renamed to `<ULID>`, so a crash leaves either the whole block or a
/// temporary directory that the next start removes.
package enum BlockWriter {
    /// One series of a block: its labels and its XOR chunks in time order, none overlapping,
    /// all inside the block's range.
    package struct Series: Sendable {
        package var labels: Labels
        package var chunks: [HeadChunk]

        package init(labels: Labels, chunks: [HeadChunk]) {
            self.labels = labels
            self.chunks = chunks
        }
    }

    /// The suffix of a block directory being written.
    package static let temporarySuffix = ".tmp-for-creation"

    /// Writes `series` (sorted by labels) as a new block covering `[minTimeMs, maxTimeMs)` in
    /// the data directory `directory`; returns its meta. `level` and `sources` are the
    /// compaction history (1 and none for a block cut from the head).
    package static func write(
        _ series: [Series], minTimeMs: Int64, maxTimeMs: Int64, into directory: String, ulid: ULID = ULID(timestampMs: UInt64(Date().timeIntervalSince1970 * 1000)),
        level: Int = 1, sources: [String]? = nil, parents: [BlockMeta.Parent]? = nil, chunkSegmentSizeBytes: Int = ChunkSegmentWriter.defaultSegmentSizeBytes
    ) throws(BlockError) -> BlockMeta {
        guard minTimeMs < maxTimeMs else { throw BlockError(.invalidInput, "block range [\(minTimeMs), \(maxTimeMs)) is empty") }
        let temporary = BlockFiles.join(directory, ulid.description + temporarySuffix)
        let chunksDirectory = BlockFiles.join(temporary, "chunks")
        try BlockFiles.createDirectory(temporary)
        try BlockFiles.createDirectory(chunksDirectory)

        var writer = ChunkSegmentWriter(directory: chunksDirectory, segmentSizeBytes: chunkSegmentSizeBytes)
        var indexed: [(labels: Labels, chunks: [IndexWriter.ChunkMeta])] = []
        indexed.reserveCapacity(series.count)
        var samples: UInt64 = 0
        var chunkCount: UInt64 = 0
        for one in series where !one.chunks.isEmpty {
            var metas: [IndexWriter.ChunkMeta] = []
            metas.reserveCapacity(one.chunks.count)
            for chunk in one.chunks {
                guard chunk.minTimeMs >= minTimeMs, chunk.maxTimeMs < maxTimeMs else {
                    throw BlockError(.invalidInput, "a chunk of \(one.labels.braced) spans [\(chunk.minTimeMs), \(chunk.maxTimeMs)], outside the block [\(minTimeMs), \(maxTimeMs))")
                }
                let bytes = chunk.bytes
                let reference = try writer.append(bytes)
                metas.append(IndexWriter.ChunkMeta(minTimeMs: chunk.minTimeMs, maxTimeMs: chunk.maxTimeMs, ref: reference))
                samples += UInt64(chunk.declaredSampleCount)
                chunkCount += 1
            }
            indexed.append((one.labels, metas))
        }
        try writer.finish()
        try BlockFiles.write(try IndexWriter.build(indexed), to: BlockFiles.join(temporary, "index"))
        try BlockFiles.write(Tombstones.encode([]), to: BlockFiles.join(temporary, "tombstones"))
        let meta = BlockMeta(
            ulid: ulid, minTime: minTimeMs, maxTime: maxTimeMs,
            stats: BlockMeta.Stats(numSamples: samples, numFloatSamples: samples, numSeries: UInt64(indexed.count), numChunks: chunkCount),
            compaction: BlockMeta.Compaction(level: level, sources: sources ?? [ulid.description], parents: parents)
        )
        try BlockFiles.write(try meta.encoded(), to: BlockFiles.join(temporary, "meta.json"))
        try BlockFiles.syncDirectory(chunksDirectory)
        try BlockFiles.syncDirectory(temporary)
        try BlockFiles.rename(temporary, BlockFiles.join(directory, ulid.description))
        try BlockFiles.syncDirectory(directory)
        return meta
    }
}
