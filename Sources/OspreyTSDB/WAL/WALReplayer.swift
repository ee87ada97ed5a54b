import OspreyEncoding

/// What a replay read and where it stopped.
package struct WALReplayStatistics: Hashable, Sendable {
    /// The checkpoint replayed first, if any.
    package var checkpointIndex: Int?
    /// Segment files read, checkpoint segments included.
    package var segmentsRead = 0
    /// Records decoded and handed to the caller, unknown ones included.
    package var recordsRead = 0
    /// Records of types the engine does not apply (mmap markers, histograms, future types).
    package var unknownRecords = 0
    /// Bytes read from segment files.
    package var bytesRead = 0
    /// Where the replay stopped early: repair the WAL with ``WAL/repair(directory:corruption:)``
    /// before opening it for writing.
    package var corruption: WALCorruption?

    /// Empty statistics.
    package init() {}
}

/// Replays a WAL directory in Prometheus' order: the newest checkpoint, then the segments
/// numbered after it, decoding each record and handing it to the caller.
///
/// Reuses its decode buffers: the arrays inside a ``WALRecord`` are valid for the duration of
/// the callback; keeping them is safe (copy on write) but costs an allocation per record.
/// Label strings are shared through ``interner``. Corruption (including a record that does not
/// decode) ends the replay and is reported in the statistics, never thrown. Not thread-safe.
package final class WALReplayer {
    /// The WAL directory.
    package let directory: String
    /// Deduplicates label names and values across the replay.
    package let interner: StringInterner
    private var series: [RefSeries] = []
    private var samples: [RefSample] = []
    private var tombstones: [RefTombstone] = []
    private var exemplars: [RefExemplar] = []
    private var metadata: [RefMetadata] = []

    /// A replayer of `directory`; pass an interner to share strings with other decoders.
    package init(directory: String, interner: StringInterner = StringInterner()) {
        self.directory = directory
        self.interner = interner
    }

    /// Replays every record in order into `apply`. Throws ``WALError`` (`.io`,
    /// `.invalidLayout`, `.unsupportedFormat`) or what `apply` throws; corruption is returned in
    /// the statistics. A missing directory replays nothing.
    package func replay(_ apply: (WALRecord) throws -> Void) throws -> WALReplayStatistics {
        var statistics = WALReplayStatistics()
        guard WALFileSystem.isDirectory(directory) else { return statistics }
        var readers: [WALReader] = []
        var after = -1
        if let checkpoint = try WALCheckpoint.last(in: directory) {
            statistics.checkpointIndex = checkpoint.index
            after = checkpoint.index
            readers.append(try WALReader(directory: checkpoint.path))
        }
        let segments = try WALSegment.list(in: directory).filter { $0.index > after }
        readers.append(WALReader(directory: directory, segments: segments))
        for reader in readers {
            var corruption: WALCorruption?
            while corruption == nil, try reader.next() {
                statistics.recordsRead += 1
                if case .unknown = WALRecordDecoder.type(of: reader.record) { statistics.unknownRecords += 1 }
                corruption = try decodeAndApply(reader: reader, apply)
            }
            statistics.segmentsRead += reader.segmentsRead
            statistics.bytesRead += reader.bytesRead
            if let found = corruption ?? reader.corruption {
                statistics.corruption = found
                return statistics
            }
        }
        return statistics
    }

    /// Decodes the reader's current record and applies it; returns a corruption if it does not decode.
    private func decodeAndApply(reader: WALReader, _ apply: (WALRecord) throws -> Void) throws -> WALCorruption? {
        let decoded: Result<WALRecord, EncodingError> = reader.record.withUnsafeBytes { bytes in
            do throws(EncodingError) {
                return .success(try decode(bytes))
            } catch {
                return .failure(error)
            }
        }
        switch decoded {
        case .success(let record):
            try apply(record)
            return nil
        case .failure(let error):
            return WALCorruption(
                directory: reader.directory, segmentIndex: reader.recordSegmentIndex, offset: reader.recordOffset,
                reason: "record does not decode: \(error)")
        }
    }

    private func decode(_ bytes: UnsafeRawBufferPointer) throws(EncodingError) -> WALRecord {
        switch WALRecordDecoder.type(of: bytes) {
        case .series:
            series.removeAll(keepingCapacity: true)
            try WALRecordDecoder.decodeSeries(bytes, into: &series, interner: interner)
            return .series(series)
        case .samples:
            samples.removeAll(keepingCapacity: true)
            try WALRecordDecoder.decodeSamples(bytes, into: &samples)
            return .samples(samples)
        case .tombstones:
            tombstones.removeAll(keepingCapacity: true)
            try WALRecordDecoder.decodeTombstones(bytes, into: &tombstones)
            return .tombstones(tombstones)
        case .exemplars:
            exemplars.removeAll(keepingCapacity: true)
            try WALRecordDecoder.decodeExemplars(bytes, into: &exemplars, interner: interner)
            return .exemplars(exemplars)
        case .metadata:
            metadata.removeAll(keepingCapacity: true)
            try WALRecordDecoder.decodeMetadata(bytes, into: &metadata, interner: interner)
            return .metadata(metadata)
        case .unknown(let byte):
            return .unknown(type: byte)
        }
    }
}
