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

    /// Defaults.
    package init() {}
}

/// Osprey's span store (docs/formats/traces.md): writes go to a WAL, then to the in-memory
/// head that readers search.
package final class TraceStore: TraceWriter, TraceReader, Sendable {
    /// The store's directory (`DATA/traces`).
    package let directory: String
    private let wal: Mutex<TraceWAL>
    private let head = Mutex(TraceHead())
    private let logger: Logger

    /// Opens the store in `directory`, replaying its WAL.
    package static func open(directory: String, options: TraceStoreOptions = TraceStoreOptions(), logger: Logger) throws -> TraceStore {
        let walDirectory = directory + "/wal"
        try TraceWAL.makeDirectory(walDirectory)
        var replayed = TraceHead()
        var decodeProblems = 0
        let report = try TraceWAL.replay(directory: walDirectory) { payload in
            do {
                let spans = try TraceBatchCodec.decode(payload)
                replayed.insert(spans, encodedBytes: payload.count)
            } catch {
                decodeProblems += 1
            }
        }
        for problem in report.problems { logger.warning("trace WAL: \(problem)") }
        if decodeProblems > 0 { logger.error("trace WAL: \(decodeProblems) records could not be decoded and were skipped") }
        let wal = try TraceWAL(directory: walDirectory, segmentSizeBytes: options.walSegmentBytes, syncEveryWrite: options.syncEveryWrite)
        return TraceStore(directory: directory, wal: wal, head: replayed, logger: logger)
    }

    private init(directory: String, wal: sending TraceWAL, head: TraceHead, logger: Logger) {
        self.directory = directory
        self.wal = Mutex(wal)
        self.head.withLock { $0 = head }
        self.logger = logger
    }

    /// Spans in the head.
    package var headSpanCount: Int { head.withLock { $0.spanCount } }

    // MARK: - TraceWriter

    package func write(_ spans: [SpanRecord]) async throws(StorageError) -> TraceWriteSummary {
        guard !spans.isEmpty else { return TraceWriteSummary(spans: 0) }
        let payload = TraceBatchCodec.encode(spans)
        // The WAL lock also orders head inserts as the WAL orders records.
        try wal.withLock { wal throws(StorageError) in
            try wal.append(payload)
            head.withLock { $0.insert(spans, encodedBytes: payload.count) }
        }
        return TraceWriteSummary(spans: spans.count)
    }

    /// Closes the WAL (fsynced).
    package func close() {
        wal.withLock { $0.close() }
    }

    // MARK: - TraceReader

    package func trace(_ id: TraceID) throws(StorageError) -> [SpanRecord] {
        head.withLock { $0.trace(id) }.sorted { ($0.startTimeUnixNano, $0.spanID) < ($1.startTimeUnixNano, $1.spanID) }
    }

    package func services() throws(StorageError) -> [String] {
        head.withLock { $0.services }.sorted()
    }

    package func operations(service: String, kind: SpanKind?) throws(StorageError) -> [TraceOperation] {
        let all = head.withLock { $0.operations[service] ?? [] }
        return all.filter { kind == nil || $0.kind == kind }.sorted { ($0.name, $0.kind.rawValue) < ($1.name, $1.kind.rawValue) }
    }

    package func findTraceIDs(_ query: TraceQuery) throws(StorageError) -> [TraceID] {
        let found = head.withLock { $0.find(query) }
        let newestFirst = found.sorted { $0.1 != $1.1 ? $0.1 > $1.1 : $0.0 < $1.0 }
        return newestFirst.prefix(max(0, query.limit)).map(\.0)
    }

    package func dependencies(startNanos: UInt64, endNanos: UInt64) throws(StorageError) -> [DependencyLink] {
        var counts: [ServicePair: Int] = [:]
        head.withLock { $0.dependencies(startNanos: startNanos, endNanos: endNanos, into: &counts) }
        return counts.map { DependencyLink(parent: $0.key.parent, child: $0.key.child, callCount: $0.value) }
            .sorted { ($0.parent, $0.child) < ($1.parent, $1.child) }
    }
}

/// A WAL record: `uvarint count`, then each span's length and span encoding.
package enum TraceBatchCodec {
    package static func encode(_ spans: [SpanRecord]) -> [UInt8] {
        var out: [UInt8] = []
        var scratch: [UInt8] = []
        Varint.appendUVarint(UInt64(spans.count), to: &out)
        for span in spans {
            scratch.removeAll(keepingCapacity: true)
            SpanCodec.append(span, to: &scratch)
            Varint.appendUVarint(UInt64(scratch.count), to: &out)
            out.append(contentsOf: scratch)
        }
        return out
    }

    package static func decode(_ payload: UnsafeRawBufferPointer) throws(EncodingError) -> [SpanRecord] {
        var reader = ByteReader(payload)
        let count = try SpanCodec.readCount(&reader)
        var spans: [SpanRecord] = []
        spans.reserveCapacity(count)
        for _ in 0..<count {
            let length = try SpanCodec.readCount(&reader)
            var spanReader = ByteReader(try reader.readBytes(length))
            spans.append(try SpanCodec.read(&spanReader))
        }
        return spans
    }
}
