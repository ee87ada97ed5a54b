import Foundation
package import Logging
import OspreyEncoding
package import OspreyModel
package import OspreyStorage
import Synchronization

/// The embedded metrics engine: a head with its WAL and the persisted blocks, in a data
/// directory laid out as Prometheus' (`DIR/wal/…`, `DIR/<ULID>/…`), so Prometheus and Osprey
/// open each other's directories.
///
/// Implements the storage contracts; everything above sees only those.
package final class TSDB: MetricAppendable, MetricQueryable, HeadStatisticsProvider, MetricAdministration {
    /// The data directory.
    package let directory: String
    /// The in-memory head.
    package let head: Head
    /// What the WAL replay at open found.
    package let replayReport: WALReplayReport
    /// The blocks, by time.
    let blocks: Mutex<[Block]>
    let logger: Logger
    /// Held while the directory is open for writing; nil when opened read-only.
    private let lock: DirectoryLock?
    /// One maintenance task at a time.
    let maintenance = MaintenanceGate()
    /// Block directories that could not be opened, so each is reported once.
    private let unreadableBlocks = Mutex<Set<String>>([])

    private init(directory: String, lock: DirectoryLock?, head: Head, blocks: [Block], replayReport: WALReplayReport, logger: Logger) {
        self.directory = directory
        self.lock = lock
        self.head = head
        self.blocks = Mutex(blocks)
        self.replayReport = replayReport
        self.logger = logger
    }

    /// The blocks currently read, by time.
    package var loadedBlocks: [Block] { blocks.withLock { $0 } }

    /// Opens (or creates) the data directory, replays its WAL (repairing a torn or corrupt
    /// tail) and starts a new WAL segment. Throws `.io` when the directory cannot be used.
    package static func open(directory: String, options: TSDBOptions, logger: Logger) throws(StorageError) -> TSDB {
        let walDirectory = (directory as NSString).appendingPathComponent("wal")
        do {
            try FileManager.default.createDirectory(atPath: walDirectory, withIntermediateDirectories: true)
        } catch {
            throw StorageError(code: .io, message: "cannot create data directory \(walDirectory)", cause: error)
        }
        let lock = try DirectoryLock(directory: directory)
        let blocks = openBlocks(in: directory, logger: logger)
        let metrics = HeadMetrics()
        let replayHead = Head(options: options, wal: nil, metrics: metrics)
        let report = try WALReplay.replay(directory: walDirectory, into: replayHead, logger: logger)
        let wal = try HeadWAL.open(directory: walDirectory, options: options, metrics: metrics)
        let head = Head(adopting: replayHead, wal: wal)
        // As in Prometheus: samples older than the newest block belong to blocks, not the head
        // (a crash after persisting a range but before checkpointing leaves them in the WAL).
        if let newest = blocks.map(\.meta.maxTime).max() {
            head.truncate(before: newest)
            head.collectEmptySeries()
        }
        let tsdb = TSDB(directory: directory, lock: lock, head: head, blocks: blocks, replayReport: report, logger: logger)
        tsdb.applyRetention()
        // The replay's buffers are gone; give their pages back, and the pages opening the
        // blocks read.
        FreeMemory.release()
        tsdb.releaseBlockPages()
        return tsdb
    }

    /// Opens `directory` for reading only, as `promtool` does: its blocks, and its WAL
    /// replayed into a head; nothing is written, removed or locked, so a running server may
    /// keep using the directory.
    package static func openReadOnly(directory: String, logger: Logger) throws(StorageError) -> TSDB {
        guard FileManager.default.fileExists(atPath: directory) else {
            throw StorageError(code: .io, message: "data directory \(directory) does not exist")
        }
        let blocks = openBlocks(in: directory, removingUnfinished: false, logger: logger)
        let head = Head(options: TSDBOptions(), wal: nil)
        let walDirectory = (directory as NSString).appendingPathComponent("wal")
        let report = FileManager.default.fileExists(atPath: walDirectory)
            ? try WALReplay.replay(directory: walDirectory, into: head, logger: logger, readOnly: true) : WALReplayReport(statistics: WALReplayStatistics())
        return TSDB(directory: directory, lock: nil, head: head, blocks: blocks, replayReport: report, logger: logger)
    }

    /// The blocks in `directory`, by time: leftovers of interrupted writes and deletions
    /// (`*.tmp-for-creation`, `*.tmp-for-deletion`) are removed (unless reading only), and a
    /// block that cannot be opened is logged with its ID and skipped.
    static func openBlocks(in directory: String, removingUnfinished: Bool = true, logger: Logger) -> [Block] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        var blocks: [Block] = []
        for name in names.sorted() {
            let path = (directory as NSString).appendingPathComponent(name)
            if removingUnfinished && (name.hasSuffix(BlockWriter.temporarySuffix) || name.hasSuffix(".tmp-for-deletion")) {
                do {
                    try FileManager.default.removeItem(atPath: path)
                    logger.info("removed an unfinished block directory", metadata: ["directory": "\(name)"])
                } catch {
                    logger.error("cannot remove an unfinished block directory", metadata: ["directory": "\(name)", "error": "\(error)"])
                }
                continue
            }
            guard ULID(name) != nil else { continue }
            do {
                blocks.append(try Block(directory: path, logger: logger))
            } catch {
                logger.error("skipping a block that cannot be read", metadata: ["block": "\(name)", "error": "\(error)"])
            }
        }
        // Blocks that are parents of another were compacted into it: a crash came before they
        // were deleted.
        let parents = Set(blocks.flatMap { $0.meta.compaction.parents?.map(\.ulid) ?? [] })
        if removingUnfinished {
            for block in blocks where parents.contains(block.meta.ulid) {
                do {
                    try FileManager.default.removeItem(atPath: block.directory)
                    logger.info("removed a block already compacted into another", metadata: ["block": "\(block.meta.ulid)"])
                } catch {
                    logger.error("cannot remove a block already compacted into another", metadata: ["block": "\(block.meta.ulid)", "error": "\(error)"])
                }
            }
        }
        return blocks.filter { !parents.contains($0.meta.ulid) }.sorted { ($0.meta.minTime, $0.meta.ulid) < ($1.meta.minTime, $1.meta.ulid) }
    }

    package func appender() -> any MetricAppender {
        head.appender()
    }

    /// The head's querier, merged with the blocks' that overlap the range.
    package func querier(minTimeMs: Int64, maxTimeMs: Int64) throws(StorageError) -> any MetricQuerier {
        let headQuerier = HeadQuerier(head: head, minTimeMs: minTimeMs, maxTimeMs: maxTimeMs)
        let overlapping = blocks.withLock { blocks in blocks.filter { $0.meta.minTime <= maxTimeMs && $0.meta.maxTime > minTimeMs } }
        guard !overlapping.isEmpty else { return headQuerier }
        return MergeQuerier(overlapping.map { $0.querier(minTimeMs: minTimeMs, maxTimeMs: maxTimeMs) } + [headQuerier])
    }

    package func headStatistics(limit: Int) -> HeadStatistics {
        head.statistics(limit: limit)
    }

    package func blockDescriptions() -> [BlockDescription] {
        loadedBlocks.map { block in
            let meta = block.meta
            return BlockDescription(
                ulid: meta.ulid, minTimeMs: meta.minTime, maxTimeMs: meta.maxTime, numSamples: meta.stats.numSamples ?? 0,
                numSeries: meta.stats.numSeries ?? 0, numChunks: meta.stats.numChunks ?? 0, compactionLevel: meta.compaction.level
            )
        }
    }

    /// Persists the head's oldest whole block range while the head spans more than one and a
    /// half block ranges and that range is older than any sample the head still accepts
    /// (Prometheus' head compaction): it waits for appenders holding samples in the range,
    /// writes the block, adds it to what queries read, then drops the range from the head and
    /// checkpoints the WAL. Returns the blocks written.
    @discardableResult
    package func persistHead() async throws(StorageError) -> [BlockMeta] {
        let range = head.options.chunkRangeMs
        var written: [BlockMeta] = []
        while let minTime = head.minTimeMs, let maxTime = head.maxTimeMs, range > 0, maxTime - minTime > range / 2 * 3 {
            let low = minTime >= 0 ? minTime / range * range : -((-minTime + range - 1) / range) * range
            let high = low + range
            // Nothing older than `high` can be appended any more; wait for appenders that
            // buffered such samples before.
            guard high <= head.appendableMinTimeMs else { break }
            var waited = 0
            while head.inFlight.anyBefore(high) {
                guard waited < 3000 else {
                    logger.warning("head persistence postponed: an appender holds samples in the range", metadata: ["range_start_ms": "\(low)"])
                    return written
                }
                try? await Task.sleep(for: .milliseconds(10))
                waited += 1
            }
            let series = headSeriesForBlock(from: low, before: high)
            if !series.isEmpty {
                do {
                    let meta = try BlockWriter.write(series, minTimeMs: low, maxTimeMs: high, into: directory)
                    let block = try Block(directory: (directory as NSString).appendingPathComponent(meta.ulid), logger: logger)
                    blocks.withLock { blocks in
                        blocks.append(block)
                        blocks.sort { ($0.meta.minTime, $0.meta.ulid) < ($1.meta.minTime, $1.meta.ulid) }
                    }
                    written.append(meta)
                    logger.info("persisted a block from the head", metadata: [
                        "block": "\(meta.ulid)", "min_time_ms": "\(low)", "max_time_ms": "\(high)",
                        "series": "\(meta.stats.numSeries ?? 0)", "samples": "\(meta.stats.numSamples ?? 0)",
                    ])
                } catch {
                    throw StorageError(code: .io, message: "cannot persist the head range [\(low), \(high))", cause: error)
                }
            }
            head.truncate(before: high)
            head.collectEmptySeries()
            let dropped = head.droppedSeriesRefs
            try head.wal?.checkpoint(keepSeries: { !self.head.checkpointDrops($0) }, minTimeMs: high)
            head.forgetDropped(dropped)
        }
        return written
    }

    /// The head's series with samples in `[lowMs, highMs)`, in label order, as a block holds
    /// them: out-of-order samples merged in, deleted ones left out.
    func headSeriesForBlock(from lowMs: Int64, before highMs: Int64) -> [BlockWriter.Series] {
        let samplesPerChunk = head.options.samplesPerChunk
        var series: [BlockWriter.Series] = []
        head.series.forEach { memSeries in
            let chunks = memSeries.state.withLock { $0.chunksForBlock(from: lowMs, before: highMs, samplesPerChunk: samplesPerChunk) }
            if !chunks.isEmpty { series.append(BlockWriter.Series(labels: memSeries.labels, chunks: chunks)) }
        }
        return Labels.sortedOrder(series.map(\.labels)).map { series[$0] }
    }

    /// Merges adjacent blocks into larger ones while ``Compactor/plan(_:ranges:)`` finds a
    /// group: the merged block is written (under a temporary name, then renamed), replaces its
    /// sources in what queries read, then the sources are deleted. A crash before the sources
    /// are deleted leaves blocks that are parents of another, which the next start deletes.
    @discardableResult
    package func compact() throws(StorageError) -> [BlockMeta] {
        let ranges = Compactor.ranges(blockRangeMs: head.options.chunkRangeMs, retentionMs: head.options.retentionMs)
        var written: [BlockMeta] = []
        while true {
            let current = blocks.withLock { $0 }
            guard let group = Compactor.plan(current.map(\.meta), ranges: ranges) else { break }
            let sources = current.filter { block in group.contains { $0.ulid == block.meta.ulid } }
            let merged: Block?
            do {
                merged = try Compactor.merge(sources, into: directory).map { meta throws(BlockError) in
                    try Block(directory: (directory as NSString).appendingPathComponent(meta.ulid), logger: logger)
                }
            } catch {
                throw StorageError(code: .io, message: "cannot compact blocks \(group.map(\.ulid).joined(separator: ", "))", cause: error)
            }
            replace(sources, with: merged)
            logger.info("compacted blocks", metadata: [
                "block": "\(merged?.meta.ulid ?? "none: every sample was deleted")", "sources": "\(group.map(\.ulid).joined(separator: ","))",
            ])
            if let merged { written.append(merged.meta) }
        }
        return written
    }

    /// Makes `replacement` (if any) visible instead of `sources`, then deletes the sources.
    func replace(_ sources: [Block], with replacement: Block?) {
        blocks.withLock { blocks in
            blocks.removeAll { block in sources.contains { $0 === block } }
            if let replacement { blocks.append(replacement) }
            blocks.sort { ($0.meta.minTime, $0.meta.ulid) < ($1.meta.minTime, $1.meta.ulid) }
        }
        for source in sources { delete(source) }
    }

    /// Removes a block's directory (renamed to `.tmp-for-deletion` first, so a crash leaves a
    /// directory the next start removes, not a half-deleted block).
    private func delete(_ block: Block) {
        let deleting = block.directory + ".tmp-for-deletion"
        do {
            try FileManager.default.moveItem(atPath: block.directory, toPath: deleting)
            try FileManager.default.removeItem(atPath: deleting)
        } catch {
            logger.error("cannot delete a block", metadata: ["block": "\(block.meta.ulid)", "error": "\(error)"])
        }
    }

    /// Deletes whole blocks beyond the retention: those ending ``TSDBOptions/retentionMs``
    /// or more before the newest block's end, then the oldest while blocks and WAL exceed
    /// ``TSDBOptions/retentionBytes``. A block is first dropped from what queries read, then
    /// renamed to `<ULID>.tmp-for-deletion` and removed (a crash in between leaves a directory
    /// the next start removes). Returns the IDs deleted.
    @discardableResult
    package func applyRetention() -> [String] {
        let options = head.options
        let doomed: [Block] = blocks.withLock { blocks in
            guard let newest = blocks.map(\.meta.maxTime).max() else { return [] }
            var doomed = blocks.filter { options.retentionMs > 0 && newest - $0.meta.maxTime >= options.retentionMs }
            if options.retentionBytes > 0 {
                var total = Self.size(of: (directory as NSString).appendingPathComponent("wal"))
                let kept = blocks.filter { block in !doomed.contains { $0 === block } }
                for block in kept { total += Self.size(of: block.directory) }
                for block in kept where total > options.retentionBytes {
                    doomed.append(block)
                    total -= Self.size(of: block.directory)
                }
            }
            blocks.removeAll { block in doomed.contains { $0 === block } }
            return doomed
        }
        for block in doomed {
            delete(block)
            logger.info("deleted a block beyond the retention", metadata: ["block": "\(block.meta.ulid)"])
        }
        return doomed.map(\.meta.ulid)
    }

    /// Bytes of the regular files under `path`.
    package static func size(of path: String) -> Int64 {
        guard let files = FileManager.default.enumerator(atPath: path) else { return 0 }
        var total: Int64 = 0
        for case let file as String in files {
            let attributes = try? FileManager.default.attributesOfItem(atPath: (path as NSString).appendingPathComponent(file))
            if attributes?[.type] as? FileAttributeType == .typeRegular { total += (attributes?[.size] as? Int64) ?? Int64((attributes?[.size] as? Int) ?? 0) }
        }
        return total
    }

    /// Background work until cancelled: periodic WAL fsync under the `write` policy, and a
    /// check at start and then every minute whether part of the head should be persisted as a block and which
    /// blocks are beyond the retention.
    package func runBackgroundTasks() async {
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await self.syncWAL() }
            group.addTask { await self.persistPeriodically() }
        }
    }

    private func syncWAL() async {
        guard let wal = head.wal else { return }
        while !Task.isCancelled {
            do {
                try await Task.sleep(for: head.options.walSyncInterval)
            } catch {
                break
            }
            do {
                try await wal.syncIfNeeded()
            } catch {
                logger.error("WAL fsync failed", metadata: ["error": "\(error)"])
            }
        }
    }

    /// The first pass runs a second after start (a head replayed from a long WAL, or blocks
    /// left uncompacted by a crash, are dealt with at once), then one a minute; between passes
    /// the head is checked every few seconds, so a head that outgrows one and a half block
    /// ranges (a fast backfill) is persisted without waiting for the minute.
    private func persistPeriodically() async {
        var nextFullPass = ContinuousClock.now + .seconds(1)
        // After a failure, only the next full pass retries.
        var failed = false
        while !Task.isCancelled {
            do {
                try await Task.sleep(for: min(.seconds(5), max(.zero, nextFullPass - ContinuousClock.now)))
            } catch {
                break
            }
            let full = ContinuousClock.now >= nextFullPass
            guard full || (headNeedsPersisting && !failed) else { continue }
            if full { nextFullPass = ContinuousClock.now + .seconds(60) }
            failed = false
            do {
                try await maintenance.run { () throws(StorageError) in
                    defer { applyRetention() }
                    if full { loadNewBlocks() }
                    let persisted = try await persistHead()
                    let compacted = full || !persisted.isEmpty ? try compact() : []
                    if !persisted.isEmpty || !compacted.isEmpty {
                        FreeMemory.release()
                        releaseBlockPages()
                    }
                }
            } catch {
                failed = true
                logger.error("persisting the head or compacting blocks failed; retrying in a minute", metadata: ["error": "\(error)"])
            }
        }
    }

    /// Drops the pages of the blocks' mapped files from the process (they stay in the page
    /// cache): after loading, persisting and compacting, which read whole indexes and chunks.
    func releaseBlockPages() {
        for block in loadedBlocks { block.releaseResidentPages() }
    }

    /// Whether the head spans more than one and a half block ranges (persistence is due).
    private var headNeedsPersisting: Bool {
        let range = head.options.chunkRangeMs
        guard range > 0, let minTime = head.minTimeMs, let maxTime = head.maxTimeMs else { return false }
        return maxTime - minTime > range / 2 * 3
    }

    /// Loads block directories that appeared in the data directory since it was opened (moved
    /// in after a backfill, as Prometheus picks them up at its next reload); overlaps with
    /// other blocks are merged by the next compaction. Runs as part of maintenance, so it
    /// never sees a block Osprey itself is writing. Returns the new blocks' metas.
    @discardableResult
    package func loadNewBlocks() -> [BlockMeta] {
        let known = Set(loadedBlocks.map(\.meta.ulid))
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        var added: [Block] = []
        for name in names.sorted() where ULID(name) != nil && !known.contains(name) {
            let path = (directory as NSString).appendingPathComponent(name)
            guard !unreadableBlocks.withLock({ $0.contains(name) }) else { continue }
            do {
                added.append(try Block(directory: path, logger: logger))
                logger.info("loaded a block added to the data directory", metadata: ["block": "\(name)"])
            } catch {
                unreadableBlocks.withLock { _ = $0.insert(name) }
                logger.error("skipping a block that cannot be read", metadata: ["block": "\(name)", "error": "\(error)"])
            }
        }
        guard !added.isEmpty else { return [] }
        blocks.withLock { blocks in
            blocks = (blocks + added).sorted { ($0.meta.minTime, $0.meta.ulid) < ($1.meta.minTime, $1.meta.ulid) }
        }
        return added.map(\.meta)
    }

    /// Flushes and closes the WAL; the engine is not used afterwards.
    package func close() async {
        do {
            try await head.wal?.close()
        } catch {
            logger.error("closing the WAL failed", metadata: ["error": "\(error)"])
        }
    }
}
