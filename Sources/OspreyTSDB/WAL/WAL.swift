import Glibc
import OspreyEncoding

/// The write side of a Prometheus-compatible write-ahead log directory (`DATA/wal/`).
///
/// Records are arbitrary byte strings (``WALRecordEncoder`` makes the ones the engine logs). They
/// are written as Prometheus' `wlog.WL` writes them: 32 KiB pages of fragments
/// `type<1> len<2 BE> crc32c<4 BE> data`, a page's tail zero-padded when fewer than 7 bytes are
/// left, optional Snappy compression per record when it makes the record smaller, and a new
/// segment when a record would not fit in the current one. Spec: `docs/formats/wal.md`, and
/// https://github.com/prometheus/prometheus/blob/v2.42.0/tsdb/docs/format/wal.md
///
/// Opening a directory always starts a new segment after the last existing one, so the caller
/// replays (``WALReplayer``) and, on corruption, repairs (``WAL/repair(directory:corruption:)``)
/// *before* opening the WAL for writing, as Prometheus' head does.
///
/// Durability: ``log(records:)`` hands the bytes to the kernel with one `write(2)` per call
/// (more only when the call cuts a segment) before it returns, so a logged record survives a
/// crash or `kill -9` of the process. ``sync()`` makes everything logged so far survive a power
/// loss. A completed segment is fsynced before the next one is started.
///
/// Thread-safety: none. The caller serialises all calls, e.g. under the lock that orders commits
/// (`HeadWAL` does this). The counters are read under the same lock.
package final class WAL {
    /// The WAL directory.
    package let directory: String
    /// Maximum size of a segment file, a multiple of 32 KiB.
    package let segmentSizeBytes: Int
    /// Whether records are Snappy-compressed when that makes them smaller.
    package let compress: Bool

    /// Index of the segment being written.
    package private(set) var lastSegmentIndex: Int
    /// Number of fsyncs of segment files (`osprey_tsdb_wal_fsyncs_total`).
    package private(set) var fsyncCount = 0
    /// Total time spent in those fsyncs (`osprey_tsdb_wal_fsync_duration_seconds` sum).
    package private(set) var fsyncDurationSeconds = 0.0
    /// Bytes handed to `write(2)`, including fragment headers and page padding.
    package private(set) var bytesWritten = 0

    private var segment: WALFile
    /// Completed pages in the current segment.
    private var donePages = 0
    /// Bytes used in the current page (written or pending).
    private var pageUsedBytes = 0
    /// Bytes of the current call not yet written; reused across calls.
    private var pending: [UInt8] = []
    /// Scratch buffer for compressed records; reused across calls.
    private var compressed: [UInt8] = []
    private var isClosed = false
    /// Set when a failed write could not be rolled back: the segment's tail is unknown.
    private var isPoisoned = false

    private var pagesPerSegment: Int { segmentSizeBytes / WALSegment.pageSizeBytes }

    /// Opens (creating if needed) the WAL in `directory` and starts a new segment numbered one
    /// past the last existing one (or 0).
    ///
    /// Throws `.invalidArgument` for a segment size that is not a positive multiple of 32 KiB,
    /// `.invalidLayout` when existing segments are not consecutive, `.io` on file-system errors.
    package init(directory: String, segmentSizeBytes: Int = WALSegment.defaultSizeBytes, compress: Bool = false) throws(WALError) {
        let page = WALSegment.pageSizeBytes
        guard segmentSizeBytes > 0, segmentSizeBytes % page == 0 else {
            throw WALError(
                code: .invalidArgument,
                message: "WAL segment size \(segmentSizeBytes) is not a positive multiple of the \(page)-byte page size")
        }
        self.directory = directory
        self.segmentSizeBytes = segmentSizeBytes
        self.compress = compress
        try WALFileSystem.createDirectory(directory)
        let next = (try WALSegment.list(in: directory).last?.index ?? -1) + 1
        self.lastSegmentIndex = next
        self.segment = .none()
        try openSegment(index: next)
    }

    /// Logs the records of one commit, in order, with as few `write(2)` calls as possible: one,
    /// or one per segment when the call fills a segment. Returns after the bytes are written
    /// (not fsynced).
    ///
    /// If it throws, the bytes this call added to the current segment are truncated away again,
    /// so a later call can continue; records moved to an earlier, completed segment stay.
    /// Throws `.closed` after ``close()``, `.io` when writing fails.
    package func log(records: some Collection<[UInt8]>) throws(WALError) {
        guard !isClosed else { throw WALError(code: .closed, message: "the WAL in \(directory) is closed") }
        guard !isPoisoned else {
            throw WALError(code: .io, message: "an earlier write to the WAL in \(directory) failed and could not be undone; reopen the WAL")
        }
        var rollback = (segment: lastSegmentIndex, donePages: donePages, pageUsedBytes: pageUsedBytes)
        pending.removeAll(keepingCapacity: true)
        do throws(WALError) {
            for record in records {
                if try appendRecord(record) {
                    rollback = (lastSegmentIndex, 0, 0)
                }
            }
            try flushPending()
        } catch {
            undoFailedWrite(to: rollback)
            throw error
        }
    }

    /// Logs the given records as one commit; see ``log(records:)``.
    package func log(_ records: [UInt8]...) throws(WALError) {
        try log(records: records)
    }

    /// Fsyncs the current segment: everything logged so far survives a power loss.
    /// Throws `.io` (the data may then be lost; Prometheus treats this as fatal).
    package func sync() throws(WALError) {
        guard !isClosed else { throw WALError(code: .closed, message: "the WAL in \(directory) is closed") }
        try syncSegment()
    }

    /// A duplicate of the current segment's file descriptor, so the caller can fsync it without
    /// holding the lock that guards this WAL (a completed segment is fsynced when it is cut, so
    /// fsyncing the descriptor covers everything logged before this call). The caller closes it.
    package func duplicateSegmentDescriptor() throws(WALError) -> Int32 {
        guard !isClosed else { throw WALError(code: .closed, message: "the WAL in \(directory) is closed") }
        let duplicate = dup(segment.descriptor)
        guard duplicate >= 0 else { throw WALFileSystem.error("cannot duplicate the descriptor of the current WAL segment") }
        return duplicate
    }

    /// Completes the current segment (pads its last page, fsyncs and closes it) and starts the
    /// next one; returns the new segment's index. Checkpointing calls this so the segments it
    /// reads are immutable.
    @discardableResult
    package func nextSegment() throws(WALError) -> Int {
        guard !isClosed else { throw WALError(code: .closed, message: "the WAL in \(directory) is closed") }
        pending.removeAll(keepingCapacity: true)
        try cutSegment()
        return lastSegmentIndex
    }

    /// Pads the last page, fsyncs and closes the current segment. Later calls throw `.closed`;
    /// closing twice does nothing.
    package func close() throws(WALError) {
        guard !isClosed else { return }
        isClosed = true
        if pageUsedBytes > 0 && !isPoisoned {
            pending.removeAll(keepingCapacity: true)
            padPage()
            try flushPending()
        }
        try syncSegment()
        try segment.close()
    }

    // MARK: - Pages and fragments

    /// Appends one record's fragments to `pending`; returns true if it cut a new segment first.
    private func appendRecord(_ record: [UInt8]) throws(WALError) -> Bool {
        var flag: UInt8 = 0
        var payload = record
        if compress && !record.isEmpty {
            compressed.removeAll(keepingCapacity: true)
            record.withUnsafeBytes { Snappy.compress($0, appendingTo: &compressed) }
            // As Prometheus: keep the compressed form only when it is smaller.
            if compressed.count < record.count {
                swap(&payload, &compressed)
                flag = WALFragment.snappyFlag
            }
        }
        defer {
            if flag != 0 { swap(&payload, &compressed) }
        }
        var didCut = false
        let pageSize = WALSegment.pageSizeBytes
        let header = WALSegment.fragmentHeaderSizeBytes
        var room = pageSize - pageUsedBytes - header
        room += (pageSize - header) * (pagesPerSegment - donePages - 1)
        // A record never spans segments. An empty segment takes any record, however large
        // (Prometheus would cut once more and leave an empty segment behind).
        if payload.count > room && (donePages > 0 || pageUsedBytes > 0) {
            try cutSegment()
            didCut = true
        }
        payload.withUnsafeBytes { appendFragments($0, flag: flag) }
        return didCut
    }

    private func appendFragments(_ payload: UnsafeRawBufferPointer, flag: UInt8) {
        let pageSize = WALSegment.pageSizeBytes
        let header = WALSegment.fragmentHeaderSizeBytes
        var offset = 0
        var isFirst = true
        repeat {
            let length = min(payload.count - offset, pageSize - pageUsedBytes - header)
            let isLast = offset + length == payload.count
            let kind: WALFragment.Kind = isFirst ? (isLast ? .full : .first) : (isLast ? .last : .middle)
            let part = UnsafeRawBufferPointer(rebasing: payload[offset..<(offset + length)])
            pending.append(kind.rawValue | flag)
            pending.appendUInt16BE(UInt16(length))
            pending.appendUInt32BE(CRC32C.checksum(part))
            pending.append(contentsOf: part)
            pageUsedBytes += header + length
            // Prometheus' `page.full()`: no room for another header.
            if pageSize - pageUsedBytes < header {
                padPage()
            }
            offset += length
            isFirst = false
        } while offset < payload.count
    }

    /// Zero-fills the rest of the current page (a type-0 "page term" fragment).
    private func padPage() {
        pending.append(contentsOf: repeatElement(0, count: WALSegment.pageSizeBytes - pageUsedBytes))
        pageUsedBytes = 0
        donePages += 1
    }

    private func flushPending() throws(WALError) {
        guard !pending.isEmpty else { return }
        try withBytes(of: pending) { (bytes) throws(WALError) in try segment.writeAll(bytes) }
        bytesWritten += pending.count
        pending.removeAll(keepingCapacity: true)
    }

    // MARK: - Segments

    private func cutSegment() throws(WALError) {
        if pageUsedBytes > 0 { padPage() }
        try flushPending()
        try syncSegment()
        try segment.close()
        try openSegment(index: lastSegmentIndex + 1)
    }

    private func openSegment(index: Int) throws(WALError) {
        let path = WALFileSystem.join(directory, WALSegment.fileName(index: index))
        segment = try WALFile.createNew(path: path)
        lastSegmentIndex = index
        donePages = 0
        pageUsedBytes = 0
        // The new directory entry must survive a power loss too.
        try WALFileSystem.syncDirectory(directory)
    }

    private func syncSegment() throws(WALError) {
        let clock = ContinuousClock()
        let start = clock.now
        try segment.sync()
        let elapsed = clock.now - start
        fsyncCount += 1
        fsyncDurationSeconds += Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18
    }

    /// Truncates the current segment back to where the failed call started, so that no torn
    /// fragment is left in the middle of the log.
    private func undoFailedWrite(to rollback: (segment: Int, donePages: Int, pageUsedBytes: Int)) {
        pending.removeAll(keepingCapacity: true)
        guard segment.isOpen, rollback.segment == lastSegmentIndex else {
            isPoisoned = true
            return
        }
        do throws(WALError) {
            try segment.truncate(to: rollback.donePages * WALSegment.pageSizeBytes + rollback.pageUsedBytes)
            donePages = rollback.donePages
            pageUsedBytes = rollback.pageUsedBytes
        } catch {
            isPoisoned = true
        }
    }
}

/// Fragment header type byte: low 3 bits the kind, bit 3 Snappy, bit 4 zstd (`wlog.go`).
enum WALFragment {
    enum Kind: UInt8, CustomStringConvertible {
        case pageTerm = 0, full = 1, first = 2, middle = 3, last = 4

        var description: String {
            switch self {
            case .pageTerm: "padding"
            case .full: "full"
            case .first: "first"
            case .middle: "middle"
            case .last: "last"
            }
        }
    }

    static let kindMask: UInt8 = 0x07
    static let snappyFlag: UInt8 = 0x08
    static let zstdFlag: UInt8 = 0x10
}
