import OspreyEncoding

/// What a checkpoint kept and dropped.
package struct WALCheckpointStatistics: Hashable, Sendable {
    /// Series entries read.
    package var totalSeries = 0
    /// Series entries dropped.
    package var droppedSeries = 0
    /// Samples read; dropped ones are older than the minimum time or of a dropped series.
    package var totalSamples = 0
    /// Samples dropped.
    package var droppedSamples = 0
    /// Tombstone intervals read.
    package var totalTombstones = 0
    /// Tombstone intervals dropped.
    package var droppedTombstones = 0
    /// Exemplars read.
    package var totalExemplars = 0
    /// Exemplars dropped.
    package var droppedExemplars = 0
    /// Metadata entries read; dropped ones are superseded or of a dropped series.
    package var totalMetadata = 0
    /// Metadata entries dropped.
    package var droppedMetadata = 0
    /// Records of types that are not carried over (mmap markers, histograms, unknown).
    package var droppedUnknownRecords = 0

    /// Empty statistics.
    package init() {}
}

/// Checkpoints of a WAL directory (Prometheus' `wlog.Checkpoint`, v2.42): a directory
/// `checkpoint.NNNNNNNN` (NNNNNNNN = the last segment it covers) holding WAL segments with the
/// records that still matter, so the covered segments can be deleted.
///
/// Replay reads the newest checkpoint, then the segments numbered after it.
/// Spec: https://github.com/prometheus/prometheus/blob/v2.42.0/tsdb/docs/format/wal.md
package enum WALCheckpoint {
    private static let prefix = "checkpoint."

    /// `checkpoint.` followed by the eight-digit, zero-padded segment index.
    package static func directoryName(index: Int) -> String {
        prefix + WALSegment.fileName(index: index)
    }

    /// The newest checkpoint in `directory`, or nil. Ignores `checkpoint.N.tmp` leftovers of an
    /// interrupted checkpoint. Throws `.invalidLayout` when a `checkpoint.N` is not a directory.
    package static func last(in directory: String) throws(WALError) -> (path: String, index: Int)? {
        try list(in: directory).last
    }

    /// Writes the checkpoint of segments `from...to`, and of the previous checkpoint if any, to
    /// `checkpoint.<to>.tmp`, fsyncs it, renames it to `checkpoint.<to>`, then deletes older
    /// checkpoints. The segments themselves are left for the caller to delete
    /// (``WAL/deleteSegments(in:before:)`` with `to + 1`) once the checkpoint is in place.
    ///
    /// Kept: series records of series for which `keepSeries` is true; their samples and
    /// exemplars at or after `minTimeMs`; their tombstones reaching `minTimeMs`; their latest
    /// metadata. (Prometheus keeps samples by time alone; samples of dropped series are useless
    /// since replay cannot resolve their reference.) Other record types are dropped, as
    /// Prometheus drops mmap markers.
    ///
    /// Throws `.invalidArgument` when `from` leaves a gap after the previous checkpoint,
    /// `.corrupt` when a segment or the previous checkpoint is corrupt (a checkpoint never skips
    /// data), `.io` on file-system errors.
    @discardableResult
    package static func create(
        directory: String, from: Int, to: Int, keepSeries: (UInt64) -> Bool, minTimeMs: Int64, compress: Bool = false
    ) throws(WALError) -> WALCheckpointStatistics {
        var first = from
        var readers: [WALReader] = []
        if let previous = try last(in: directory) {
            guard from <= previous.index + 1 else {
                throw WALError(
                    code: .invalidArgument,
                    message: "cannot checkpoint segments \(from)...\(to): the last checkpoint ends at \(previous.index)")
            }
            first = previous.index + 1
            readers.append(try WALReader(directory: previous.path))
        }
        let segments = try WALSegment.list(in: directory).filter { $0.index >= first && $0.index <= to }
        readers.append(WALReader(directory: directory, segments: segments))

        let finalPath = WALFileSystem.join(directory, directoryName(index: to))
        let temporaryPath = finalPath + ".tmp"
        try WALFileSystem.removeAll(temporaryPath)
        var statistics = WALCheckpointStatistics()
        do throws(WALError) {
            let output = try WAL(directory: temporaryPath, compress: compress)
            var filter = CheckpointFilter(minTimeMs: minTimeMs, output: output)
            for reader in readers {
                try filter.copy(from: reader, keepSeries: keepSeries)
            }
            try filter.finish()
            statistics = filter.statistics
            try output.close()
            try WALFileSystem.syncDirectory(temporaryPath)
            try WALFileSystem.removeAll(finalPath)
            try WALFileSystem.rename(temporaryPath, finalPath)
            try WALFileSystem.syncDirectory(directory)
        } catch {
            try? WALFileSystem.removeAll(temporaryPath)
            throw error
        }
        for older in try list(in: directory) where older.index < to {
            try WALFileSystem.removeAll(older.path)
        }
        return statistics
    }

    /// Deletes checkpoints numbered below `index`.
    package static func deleteCheckpoints(in directory: String, before index: Int) throws(WALError) {
        for checkpoint in try list(in: directory) where checkpoint.index < index {
            try WALFileSystem.removeAll(checkpoint.path)
        }
    }

    /// Checkpoints in `directory`, oldest first.
    private static func list(in directory: String) throws(WALError) -> [(path: String, index: Int)] {
        var found: [(path: String, index: Int)] = []
        for entry in try WALFileSystem.entries(of: directory) where entry.name.hasPrefix(prefix) {
            guard let index = WALSegment.parseIndex(String(entry.name.dropFirst(prefix.count))) else { continue }
            guard entry.isDirectory else {
                throw WALError(code: .invalidLayout, message: "checkpoint \(entry.name) in \(directory) is not a directory")
            }
            found.append((WALFileSystem.join(directory, entry.name), index))
        }
        return found.sorted { $0.index < $1.index }
    }
}

/// Filters records into a checkpoint, batching output records into ~1 MiB writes.
private struct CheckpointFilter {
    let minTimeMs: Int64
    let output: WAL
    var statistics = WALCheckpointStatistics()
    private let interner = StringInterner()
    private var batch: [[UInt8]] = []
    private var batchBytes = 0
    private var series: [RefSeries] = []
    private var samples: [RefSample] = []
    private var tombstones: [RefTombstone] = []
    private var exemplars: [RefExemplar] = []
    private var metadata: [RefMetadata] = []
    /// Latest metadata per kept series, written at the end.
    private var latestMetadata: [UInt64: RefMetadata] = [:]

    init(minTimeMs: Int64, output: WAL) {
        self.minTimeMs = minTimeMs
        self.output = output
    }

    mutating func copy(from reader: WALReader, keepSeries: (UInt64) -> Bool) throws(WALError) {
        while try reader.next() {
            do throws(EncodingError) {
                try filter(reader.record, keepSeries: keepSeries)
            } catch {
                throw WALError(
                    code: .corrupt,
                    message: "cannot checkpoint: record at offset \(reader.recordOffset) of segment \(reader.recordSegmentIndex) "
                        + "in \(reader.directory) does not decode: \(error)")
            }
            if batchBytes >= 1 << 20 { try flush() }
        }
        if let corruption = reader.corruption {
            throw WALError(code: .corrupt, message: "cannot checkpoint: \(corruption)")
        }
    }

    mutating func finish() throws(WALError) {
        if !latestMetadata.isEmpty {
            var record: [UInt8] = []
            let entries = latestMetadata.values.sorted { $0.ref < $1.ref }
            WALRecordEncoder.encodeMetadata(entries, into: &record)
            append(record)
        }
        try flush()
    }

    private mutating func filter(_ record: [UInt8], keepSeries: (UInt64) -> Bool) throws(EncodingError) {
        try withBytes(of: record) { (bytes) throws(EncodingError) in
            var out: [UInt8] = []
            switch WALRecordDecoder.type(of: bytes) {
            case .series:
                series.removeAll(keepingCapacity: true)
                try WALRecordDecoder.decodeSeries(bytes, into: &series, interner: interner)
                statistics.totalSeries += series.count
                let kept = series.filter { keepSeries($0.ref) }
                statistics.droppedSeries += series.count - kept.count
                if !kept.isEmpty { WALRecordEncoder.encodeSeries(kept, into: &out) }
            case .samples:
                samples.removeAll(keepingCapacity: true)
                try WALRecordDecoder.decodeSamples(bytes, into: &samples)
                statistics.totalSamples += samples.count
                let kept = samples.filter { $0.timestampMs >= minTimeMs && keepSeries($0.ref) }
                statistics.droppedSamples += samples.count - kept.count
                if !kept.isEmpty { WALRecordEncoder.encodeSamples(kept, into: &out) }
            case .tombstones:
                tombstones.removeAll(keepingCapacity: true)
                try WALRecordDecoder.decodeTombstones(bytes, into: &tombstones)
                statistics.totalTombstones += tombstones.count
                let kept = tombstones.filter { $0.maxTimeMs >= minTimeMs && keepSeries($0.ref) }
                statistics.droppedTombstones += tombstones.count - kept.count
                if !kept.isEmpty { WALRecordEncoder.encodeTombstones(kept, into: &out) }
            case .exemplars:
                exemplars.removeAll(keepingCapacity: true)
                try WALRecordDecoder.decodeExemplars(bytes, into: &exemplars, interner: interner)
                statistics.totalExemplars += exemplars.count
                let kept = exemplars.filter { $0.timestampMs >= minTimeMs && keepSeries($0.ref) }
                statistics.droppedExemplars += exemplars.count - kept.count
                if !kept.isEmpty { WALRecordEncoder.encodeExemplars(kept, into: &out) }
            case .metadata:
                metadata.removeAll(keepingCapacity: true)
                try WALRecordDecoder.decodeMetadata(bytes, into: &metadata, interner: interner)
                statistics.totalMetadata += metadata.count
                for entry in metadata {
                    if keepSeries(entry.ref), latestMetadata.updateValue(entry, forKey: entry.ref) == nil { continue }
                    statistics.droppedMetadata += 1
                }
            case .unknown:
                statistics.droppedUnknownRecords += 1
            }
            if !out.isEmpty { append(out) }
        }
    }

    private mutating func append(_ record: [UInt8]) {
        batchBytes += record.count
        batch.append(record)
    }

    private mutating func flush() throws(WALError) {
        guard !batch.isEmpty else { return }
        try output.log(records: batch)
        batch.removeAll(keepingCapacity: true)
        batchBytes = 0
    }
}
