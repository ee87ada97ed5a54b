import Foundation
package import Logging
package import OspreyEncoding
package import OspreyModel
package import OspreyStorage
import Synchronization

/// Options of the trace store.
package struct TraceStoreOptions: Hashable, Sendable {
    /// fsync the WAL before acknowledging each write (`--storage.tsdb.wal-sync=always`).
    package var syncEveryWrite = false
    /// Largest WAL segment.
    package var walSegmentBytes = 128 << 20
    /// The head is cut into a block once its oldest write is this old (`--traces.block-duration`).
    package var blockDurationNanos: UInt64 = 15 * 60 * 1_000_000_000
    /// … or once it holds this many encoded bytes (checked on every write; the head keeps spans
    /// encoded, so this is about its memory).
    package var headMaxBytes = 64 << 20
    /// Blocks whose newest span ended longer ago are deleted (`--traces.retention.time`).
    package var retentionNanos: UInt64 = 7 * 24 * 3600 * 1_000_000_000
    /// Oldest blocks are deleted while all blocks take more (`--traces.retention.size`; 0: none).
    package var retentionBytes: Int64 = 0
    /// Attribute keys indexed in blocks (not a flag yet).
    package var indexedKeys: Set<String> = [
        "http.method", "http.request.method", "http.status_code", "http.response.status_code", "http.route", "error",
        "db.system", "rpc.method", "rpc.service", "messaging.system", "peer.service",
    ]

    /// Defaults.
    package init() {}
}

/// Osprey's span store (docs/formats/traces.md): writes go to a WAL, then to the in-memory
/// head that readers search; the head is cut into immutable blocks, which retention deletes.
package final class TraceStore: TraceWriter, TraceReader, Sendable {
    /// The store's directory (`DATA/traces`).
    package let directory: String
    package let options: TraceStoreOptions
    private let wal: Mutex<TraceWAL>
    private let state: Mutex<State>
    /// Serialises cuts and retention.
    private let maintenance = Mutex(())
    private let logger: Logger
    /// Set while a cut started by a write is pending.
    private let cutScheduled = Atomic<Bool>(false)
    /// Counts block reads, for dropping the tables of the blocks read longest ago.
    private let useClock = Atomic<UInt64>(0)
    /// Most blocks whose strings, resources and scopes stay decoded in memory.
    static let maxLoadedTables = 32

    private struct State: Sendable {
        var head = TraceHead()
        /// When the head received its first write (ns), or nil while empty.
        var headSince: UInt64?
        /// A head being written as a block: still read until the block is loaded.
        var cutting: TraceHead?
        var blocks: [TraceBlock] = []
    }

    private var blocksDirectory: String { directory + "/blocks" }

    /// Opens the store in `directory`: loads its blocks and replays the WAL not yet in them.
    package static func open(directory: String, options: TraceStoreOptions = TraceStoreOptions(), logger: Logger) throws -> TraceStore {
        let walDirectory = directory + "/wal"
        let blocksDirectory = directory + "/blocks"
        try TraceWAL.makeDirectory(walDirectory)
        try TraceWAL.makeDirectory(blocksDirectory)
        var blocks: [TraceBlock] = []
        for name in (try? FileManager.default.contentsOfDirectory(atPath: blocksDirectory))?.sorted() ?? [] {
            let path = blocksDirectory + "/" + name
            if name.hasSuffix(".tmp") {
                try? FileManager.default.removeItem(atPath: path)
                continue
            }
            do {
                blocks.append(try TraceBlock(path: path))
            } catch {
                logger.error("trace block \(path) cannot be read and is skipped: \(error)")
            }
        }
        let covered = blocks.map(\.meta.walSegmentsThrough).max() ?? 0
        for segment in try TraceWAL.segments(in: walDirectory) where segment <= covered {
            unlink(walDirectory + "/" + TraceWAL.name(segment))
        }
        var replayed = TraceHead()
        var decodeProblems = 0
        let report = try TraceWAL.replay(directory: walDirectory, after: covered) { payload in
            do {
                let (spans, ranges) = try TraceBatchCodec.decodeWithRanges(payload)
                replayed.insert(spans, payload: Array(payload), ranges: ranges)
            } catch {
                decodeProblems += 1
            }
        }
        for problem in report.problems { logger.warning("trace WAL: \(problem)") }
        if decodeProblems > 0 { logger.error("trace WAL: \(decodeProblems) records could not be decoded and were skipped") }
        let wal = try TraceWAL(directory: walDirectory, segmentSizeBytes: options.walSegmentBytes, syncEveryWrite: options.syncEveryWrite)
        var state = State()
        state.head = replayed
        state.headSince = replayed.spanCount > 0 ? Self.now() : nil
        state.blocks = blocks
        return TraceStore(directory: directory, options: options, wal: wal, state: state, logger: logger)
    }

    private init(directory: String, options: TraceStoreOptions, wal: sending TraceWAL, state: sending State, logger: Logger) {
        self.directory = directory
        self.options = options
        self.wal = Mutex(wal)
        self.state = Mutex(state)
        self.logger = logger
    }

    static func now() -> UInt64 { UInt64(max(0, Date().timeIntervalSince1970 * 1e9)) }

    /// Spans in the head.
    package var headSpanCount: Int { state.withLock { $0.head.spanCount } }
    /// Blocks loaded.
    package var blockCount: Int { state.withLock { $0.blocks.count } }

    // MARK: - TraceWriter

    package func write(_ spans: [SpanRecord]) async throws(StorageError) -> TraceWriteSummary {
        guard !spans.isEmpty else { return TraceWriteSummary(spans: 0) }
        let (payload, ranges) = TraceBatchCodec.encode(spans)
        // The WAL lock also orders head inserts as the WAL orders records, and a cut (which
        // takes it too) never separates a record from its spans.
        let full = try wal.withLock { wal throws(StorageError) -> Bool in
            try wal.append(payload)
            return state.withLock { state in
                state.head.insert(spans, payload: payload, ranges: ranges)
                if state.headSince == nil { state.headSince = Self.now() }
                return state.head.byteCount >= options.headMaxBytes
            }
        }
        // A full head is cut at once rather than at the next maintenance, so memory stays bounded
        // whatever the ingest rate.
        if full, cutScheduled.compareExchange(expected: false, desired: true, ordering: .acquiringAndReleasing).exchanged {
            Task.detached { [self] in
                defer { cutScheduled.store(false, ordering: .releasing) }
                do {
                    try cut()
                } catch {
                    logger.error("cutting the full trace head failed: \(error)")
                }
            }
        }
        return TraceWriteSummary(spans: spans.count)
    }

    /// Closes the WAL (fsynced).
    package func close() {
        wal.withLock { $0.close() }
    }

    // MARK: - Maintenance

    /// Cuts the head when it is old or large enough, then applies retention. Call periodically.
    package func maintain(nowNanos: UInt64 = TraceStore.now()) throws(StorageError) {
        let due = state.withLock { state in
            guard let since = state.headSince, state.head.spanCount > 0 else { return false }
            return nowNanos >= since + options.blockDurationNanos || state.head.byteCount >= options.headMaxBytes
        }
        if due { try cut() }
        try applyRetention(nowNanos: nowNanos)
    }

    /// Writes the head as a block now (no-op when empty).
    package func cut() throws(StorageError) {
        try maintenance.withLock { _ throws(StorageError) in
            let frozen = try wal.withLock { wal throws(StorageError) -> (TraceHead, Int)? in
                let empty = state.withLock { $0.head.spanCount == 0 }
                guard !empty else { return nil }
                let closed = try wal.cut()
                let head = state.withLock { state in
                    let head = state.head
                    state.cutting = head
                    state.head = TraceHead()
                    state.headSince = nil
                    return head
                }
                return (head, closed)
            }
            guard let (head, closedSegment) = frozen else { return }
            let ulid = ULID(timestampMs: UInt64(max(0, Date().timeIntervalSince1970 * 1000))).description
            do throws(StorageError) {
                let meta = try TraceBlockWriter.write(
                    traceIDs: head.traceIDs, spans: { head.trace($0) }, blocksDirectory: blocksDirectory, ulid: ulid,
                    walSegmentsThrough: closedSegment, indexedKeys: options.indexedKeys)
                let block = try TraceBlock(path: blocksDirectory + "/" + ulid)
                state.withLock { state in
                    state.blocks.append(block)
                    state.cutting = nil
                }
                try wal.withLock { wal throws(StorageError) in try wal.removeSegments(through: closedSegment) }
                // The frozen head and the block writer's tables are freed: give the pages back.
                FreeMemory.release()
                logger.info("trace block written", metadata: ["ulid": "\(ulid)", "spans": "\(meta.spans)", "traces": "\(meta.traces)", "bytes": "\(meta.spansBytes + meta.indexBytes)"])
            } catch {
                // Keep serving the frozen head; its WAL segments stay, so a restart replays them.
                state.withLock { state in
                    if let cutting = state.cutting {
                        let spans = Array(cutting.allTraces.values.joined())
                        let (payload, ranges) = TraceBatchCodec.encode(spans)
                        state.head.insert(spans, payload: payload, ranges: ranges)
                    }
                    state.cutting = nil
                    state.headSince = state.headSince ?? Self.now()
                }
                throw error
            }
        }
    }

    private func applyRetention(nowNanos: UInt64) throws(StorageError) {
        try maintenance.withLock { _ throws(StorageError) in
            let doomed = state.withLock { state -> [TraceBlock] in
                var remove: [TraceBlock] = []
                let cutoff = nowNanos > options.retentionNanos ? nowNanos - options.retentionNanos : 0
                var kept = state.blocks.filter { block in
                    if block.meta.maxEnd < cutoff {
                        remove.append(block)
                        return false
                    }
                    return true
                }
                if options.retentionBytes > 0 {
                    var total = kept.reduce(Int64(0)) { $0 + Int64($1.meta.spansBytes + $1.meta.indexBytes) }
                    kept.sort { $0.meta.maxEnd < $1.meta.maxEnd }
                    while total > options.retentionBytes, let oldest = kept.first {
                        total -= Int64(oldest.meta.spansBytes + oldest.meta.indexBytes)
                        remove.append(oldest)
                        kept.removeFirst()
                    }
                }
                state.blocks = kept
                return remove
            }
            for block in doomed {
                do {
                    try FileManager.default.removeItem(atPath: block.path)
                    logger.info("trace block deleted by retention", metadata: ["path": "\(block.path)"])
                } catch {
                    throw StorageError(code: .io, message: "cannot delete \(block.path): \(error)")
                }
            }
        }
    }

    // MARK: - TraceReader

    private func snapshot() -> (heads: [TraceHead], blocks: [TraceBlock]) {
        state.withLock { state in ([state.head] + (state.cutting.map { [$0] } ?? []), state.blocks) }
    }

    /// Marks blocks as just read and drops the decoded tables of the least recently read ones
    /// beyond ``maxLoadedTables``, so memory does not grow with the number of blocks.
    private func used(_ blocks: [TraceBlock]) {
        let tick = useClock.add(1, ordering: .relaxed).newValue
        for block in blocks { block.lastUse.store(tick, ordering: .relaxed) }
        let all = state.withLock { $0.blocks }
        let loaded = all.filter(\.tablesLoaded)
        guard loaded.count > Self.maxLoadedTables else { return }
        for block in loaded.sorted(by: { $0.lastUse.load(ordering: .relaxed) < $1.lastUse.load(ordering: .relaxed) }).prefix(loaded.count - Self.maxLoadedTables) {
            block.releaseTables()
        }
    }

    package func trace(_ id: TraceID) throws(StorageError) -> [SpanRecord] {
        let (heads, blocks) = snapshot()
        var spans: [SpanRecord] = []
        defer { used(blocks) }
        for block in blocks.reversed() { spans += try block.trace(id) }
        for head in heads { spans += head.trace(id) }
        var seen = Set<SpanRecord>()
        spans = spans.filter { seen.insert($0).inserted }
        return spans.sorted { ($0.startTimeUnixNano, $0.spanID) < ($1.startTimeUnixNano, $1.spanID) }
    }

    package func services() throws(StorageError) -> [String] {
        let (heads, blocks) = snapshot()
        var names = Set<String>()
        for head in heads { names.formUnion(head.services) }
        for block in blocks { names.formUnion(block.operations.keys) }
        return names.sorted()
    }

    package func operations(service: String, kind: SpanKind?) throws(StorageError) -> [TraceOperation] {
        let (heads, blocks) = snapshot()
        var all = Set<TraceOperation>()
        for head in heads { all.formUnion(head.operations[service] ?? []) }
        for block in blocks { all.formUnion(block.operations[service] ?? []) }
        return all.filter { kind == nil || $0.kind == kind }.sorted { ($0.name, $0.kind.rawValue) < ($1.name, $1.kind.rawValue) }
    }

    package func findTraceIDs(_ query: TraceQuery) throws(StorageError) -> [TraceID] {
        guard query.limit > 0 else { return [] }
        let (heads, blocks) = snapshot()
        var newest: [TraceID: UInt64] = [:]
        for head in heads {
            for (id, start) in head.find(query) { newest[id] = max(newest[id] ?? 0, start) }
        }
        defer { used(blocks) }
        for block in blocks.reversed() {
            for (id, start) in try block.find(query, indexedKeys: options.indexedKeys) { newest[id] = max(newest[id] ?? 0, start) }
        }
        return newest.sorted { $0.value != $1.value ? $0.value > $1.value : $0.key < $1.key }.prefix(query.limit).map(\.key)
    }

    package func dependencies(startNanos: UInt64, endNanos: UInt64) throws(StorageError) -> [DependencyLink] {
        let (heads, blocks) = snapshot()
        var counts: [ServicePair: Int] = [:]
        for head in heads { head.dependencies(startNanos: startNanos, endNanos: endNanos, into: &counts) }
        defer { used(blocks) }
        for block in blocks { try block.dependencies(startNanos: startNanos, endNanos: endNanos, into: &counts) }
        return counts.map { DependencyLink(parent: $0.key.parent, child: $0.key.child, callCount: $0.value) }
            .sorted { ($0.parent, $0.child) < ($1.parent, $1.child) }
    }
}

/// A WAL record: `uvarint count`, then each span's length and span encoding.
package enum TraceBatchCodec {
    /// The record, and each span's byte range in it.
    package static func encode(_ spans: [SpanRecord]) -> (payload: [UInt8], ranges: [Range<Int>]) {
        var out: [UInt8] = []
        var scratch: [UInt8] = []
        var ranges: [Range<Int>] = []
        ranges.reserveCapacity(spans.count)
        Varint.appendUVarint(UInt64(spans.count), to: &out)
        for span in spans {
            scratch.removeAll(keepingCapacity: true)
            SpanCodec.append(span, to: &scratch)
            if out.capacity < out.count + scratch.count + 10 {
                // Grow for the whole batch at once, from what the spans so far took.
                out.reserveCapacity(max(out.count * 2, (out.count + scratch.count + 10) * max(1, spans.count) / max(1, ranges.count + 1)))
            }
            Varint.appendUVarint(UInt64(scratch.count), to: &out)
            ranges.append(out.count..<(out.count + scratch.count))
            out.append(contentsOf: scratch)
        }
        return (out, ranges)
    }

    package static func decode(_ payload: UnsafeRawBufferPointer) throws(EncodingError) -> [SpanRecord] {
        try decodeWithRanges(payload).spans
    }

    /// The spans of a record and each one's byte range in it.
    package static func decodeWithRanges(_ payload: UnsafeRawBufferPointer) throws(EncodingError) -> (spans: [SpanRecord], ranges: [Range<Int>]) {
        var reader = ByteReader(payload)
        let count = try SpanCodec.readCount(&reader)
        var spans: [SpanRecord] = []
        var ranges: [Range<Int>] = []
        spans.reserveCapacity(count)
        ranges.reserveCapacity(count)
        for _ in 0..<count {
            let length = try SpanCodec.readCount(&reader)
            let start = reader.offset
            var spanReader = ByteReader(try reader.readBytes(length))
            spans.append(try SpanCodec.read(&spanReader))
            ranges.append(start..<(start + length))
        }
        return (spans, ranges)
    }
}
