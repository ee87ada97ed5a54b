import OspreyEncoding

/// Reads the records of a sequence of WAL segments (a WAL directory or a checkpoint
/// directory), reassembling fragments, verifying each fragment's CRC-32C and decompressing Snappy
/// records, with the semantics of Prometheus' `wlog.Reader` (v2.42).
///
/// A torn tail is expected after a crash: a segment that ends mid-page is read as if the page
/// were zero-padded, a zero-filled tail is padding, and a record cut off before its last fragment
/// is reported as ``WALCorruption`` (never thrown, never a crash), after which ``next()``
/// returns false. File-system errors and unsupported formats (zstd) are thrown.
///
/// Usage: `while try reader.next() { use(reader.record) }`, then check ``corruption``.
/// ``record`` is reused by the next call to ``next()``; copy it to keep it (arrays copy on
/// write, so holding the array is safe but makes the next call allocate). Not thread-safe.
package final class WALReader {
    /// The payload of the record ``next()`` returned; valid until the next call.
    package private(set) var record: [UInt8] = []
    /// The segment holding ``record``.
    package private(set) var recordSegmentIndex = -1
    /// Byte offset of ``record``'s first fragment in its segment.
    package private(set) var recordOffset = 0
    /// Byte offset just past ``record``'s last fragment.
    package private(set) var recordEndOffset = 0
    /// Set when reading stopped at damaged data.
    package private(set) var corruption: WALCorruption?
    /// Segments opened so far.
    package private(set) var segmentsRead = 0
    /// Bytes read from segment files so far.
    package private(set) var bytesRead = 0
    /// Records returned so far.
    package private(set) var recordsRead = 0

    /// The directory the segments are in (for corruption reports).
    package let directory: String
    private let segments: [WALSegment]
    private var nextSegmentPosition = 0
    private var file: WALFile = .none()
    private var current: WALSegment?
    /// Chunk of the current segment: `chunk[0]` is at `chunkStart`; `chunkValid` bytes are read.
    private var chunk: [UInt8]
    private var chunkStart = 0
    private var chunkValid = 0
    /// Offset in the current segment of the next byte to parse.
    private var position = 0
    private var compressedScratch: [UInt8] = []
    private var isFinished = false

    private static let pagesPerChunk = 16
    /// Upper bound of a decompressed record, against corrupt length headers.
    private static let maxRecordBytes = 1 << 30

    /// A reader over `segments` (in order) of `directory`.
    package init(directory: String, segments: [WALSegment]) {
        self.directory = directory
        self.segments = segments
        self.chunk = [UInt8](repeating: 0, count: WALSegment.pageSizeBytes * Self.pagesPerChunk)
    }

    /// A reader over all segments of `directory` (a WAL or checkpoint directory).
    /// Throws like ``WALSegment/list(in:)``.
    package convenience init(directory: String) throws(WALError) {
        self.init(directory: directory, segments: try WALSegment.list(in: directory))
    }

    /// Advances to the next complete record. Returns false at the end of the last segment or when
    /// ``corruption`` was set. Throws `.io` on read errors and `.unsupportedFormat` for zstd.
    package func next() throws(WALError) -> Bool {
        guard !isFinished else { return false }
        record.removeAll(keepingCapacity: true)
        compressedScratch.removeAll(keepingCapacity: true)
        var fragments = 0
        var isCompressed = false
        while true {
            guard let segment = try currentSegment() else {
                // No more segments. (A record open at a segment's end was reported there.)
                return finish()
            }
            // Where the current record, or else the current fragment, starts.
            let start = fragments > 0 ? recordOffset : position
            switch try readFragment(in: segment) {
            case .endOfSegment:
                if fragments > 0 {
                    return report("last record is torn: segment \(segment.index) ends inside it", at: start)
                }
                try closeSegment()
            case .padding:
                continue
            case .corrupt(let reason):
                return report(reason, at: start)
            case .fragment(let kind, let snappy, let data, let fragmentOffset):
                switch kind {
                case .full, .first:
                    guard fragments == 0 else {
                        return report("unexpected \(kind) fragment at offset \(fragmentOffset) inside a record", at: start)
                    }
                    recordOffset = fragmentOffset
                    recordSegmentIndex = segment.index
                    isCompressed = snappy
                case .middle, .last:
                    guard fragments > 0 else {
                        return report("unexpected \(kind) fragment at offset \(fragmentOffset)", at: fragmentOffset)
                    }
                    guard snappy == isCompressed else {
                        return report("fragment at offset \(fragmentOffset) changes the record's compression", at: start)
                    }
                case .pageTerm:
                    continue
                }
                if isCompressed {
                    compressedScratch.append(contentsOf: chunk[data])
                } else {
                    record.append(contentsOf: chunk[data])
                }
                fragments += 1
                if kind == .full || kind == .last {
                    return completeRecord(isCompressed: isCompressed)
                }
            }
        }
    }

    private enum FragmentResult {
        /// The file ends here (missing bytes of its last page read as zero padding).
        case endOfSegment
        /// The rest of the page was zero padding; `position` moved to the next page.
        case padding
        case corrupt(String)
        /// A fragment with a valid CRC; `data` indexes `chunk`; `position` moved past it.
        case fragment(WALFragment.Kind, snappy: Bool, data: Range<Int>, offset: Int)
    }

    /// Parses the fragment at `position`, checking its bounds and CRC.
    private func readFragment(in segment: WALSegment) throws(WALError) -> FragmentResult {
        let pageSize = WALSegment.pageSizeBytes
        let headerSize = WALSegment.fragmentHeaderSizeBytes
        let pageStart = position - position % pageSize
        try loadChunk(containing: pageStart)
        let pageEnd = min(pageStart + pageSize, chunkStart + chunkValid)
        guard position < pageEnd else { return .endOfSegment }
        let header = position - chunkStart
        let typeByte = chunk[header]
        guard let kind = WALFragment.Kind(rawValue: typeByte & WALFragment.kindMask) else {
            return .corrupt("invalid fragment type \(typeByte & WALFragment.kindMask) at offset \(position)")
        }
        if kind == .pageTerm {
            if let bad = chunk[header..<(pageEnd - chunkStart)].firstIndex(where: { $0 != 0 }) {
                return .corrupt("non-zero byte at offset \(bad + chunkStart) in page padding")
            }
            position = pageStart + pageSize
            return .padding
        }
        if typeByte & WALFragment.zstdFlag != 0 {
            throw WALError(
                code: .unsupportedFormat,
                message: "WAL segment \(segment.path) holds zstd-compressed records (offset \(position)); "
                    + "Osprey reads uncompressed and Snappy records only: restart Prometheus with "
                    + "--storage.tsdb.wal-compression-type=snappy and let it cut a new segment")
        }
        guard position + headerSize <= pageStart + pageSize else {
            return .corrupt("fragment header at offset \(position) crosses a page boundary")
        }
        guard position + headerSize <= pageEnd else {
            return .corrupt("fragment header at offset \(position) is cut off")
        }
        let length = Int(chunk[header + 1]) << 8 | Int(chunk[header + 2])
        let storedCRC = UInt32(chunk[header + 3]) << 24 | UInt32(chunk[header + 4]) << 16
            | UInt32(chunk[header + 5]) << 8 | UInt32(chunk[header + 6])
        let end = position + headerSize + length
        guard end <= pageStart + pageSize else {
            return .corrupt("fragment at offset \(position) of \(length) bytes does not fit its page")
        }
        guard end <= pageEnd else {
            return .corrupt("fragment at offset \(position) is cut off: \(length) bytes expected, \(pageEnd - position - headerSize) present")
        }
        let data = (header + headerSize)..<(header + headerSize + length)
        let computedCRC = chunk.withUnsafeBytes { CRC32C.checksum(UnsafeRawBufferPointer(rebasing: $0[data])) }
        guard computedCRC == storedCRC else {
            return .corrupt("checksum mismatch in fragment at offset \(position): stored \(hex(storedCRC)), computed \(hex(computedCRC))")
        }
        let offset = position
        position = end
        return .fragment(kind, snappy: typeByte & WALFragment.snappyFlag != 0, data: data, offset: offset)
    }

    /// Finishes the record whose last fragment was just read: decompresses it if needed.
    private func completeRecord(isCompressed: Bool) -> Bool {
        if isCompressed && !compressedScratch.isEmpty {
            do throws(EncodingError) {
                record = try Snappy.decompress(compressedScratch, maxDecodedLength: Self.maxRecordBytes)
            } catch {
                return report("snappy-compressed record does not decompress: \(error)", at: recordOffset)
            }
        }
        recordEndOffset = position
        recordsRead += 1
        return true
    }

    // MARK: - Segments and chunks

    private func currentSegment() throws(WALError) -> WALSegment? {
        if let current { return current }
        guard nextSegmentPosition < segments.count else { return nil }
        let segment = segments[nextSegmentPosition]
        nextSegmentPosition += 1
        file = try WALFile.openForReading(path: segment.path)
        current = segment
        segmentsRead += 1
        position = 0
        chunkStart = 0
        chunkValid = 0
        try fillChunk(at: 0)
        return segment
    }

    private func closeSegment() throws(WALError) {
        current = nil
        try file.close()
    }

    /// Makes sure the page starting at `pageStart` is in the chunk (or that the file ends before it).
    private func loadChunk(containing pageStart: Int) throws(WALError) {
        if pageStart >= chunkStart && pageStart < chunkStart + chunk.count { return }
        try fillChunk(at: pageStart)
    }

    private func fillChunk(at offset: Int) throws(WALError) {
        // Chunks are read sequentially, so the file position is at `offset` already.
        chunkStart = offset
        chunkValid = 0
        let count = chunk.count
        let n = try chunk.withUnsafeMutableBytes { (bytes) -> Result<Int, WALError> in
            do throws(WALError) {
                return .success(try file.readFully(into: UnsafeMutableRawBufferPointer(rebasing: bytes[0..<count])))
            } catch {
                return .failure(error)
            }
        }.get()
        chunkValid = n
        bytesRead += n
    }

    private func report(_ reason: String, at offset: Int) -> Bool {
        corruption = WALCorruption(directory: directory, segmentIndex: current?.index ?? -1, offset: offset, reason: reason)
        return finish()
    }

    private func finish() -> Bool {
        isFinished = true
        record.removeAll(keepingCapacity: true)
        current = nil
        try? file.close()
        return false
    }
}

private func hex(_ value: UInt32) -> String {
    let digits = String(value, radix: 16)
    return "0x" + String(repeating: "0", count: 8 - digits.count) + digits
}
