/// What ``WAL/repair(directory:corruption:)`` cut, for the caller to log.
package struct WALRepairSummary: Hashable, Sendable, CustomStringConvertible {
    /// The segment that was truncated.
    package var segmentIndex: Int
    /// Its size before the repair.
    package var originalSizeBytes: Int
    /// Bytes of intact records kept at its start.
    package var keptBytes: Int
    /// Complete records kept in it.
    package var keptRecords: Int
    /// Later segments that were deleted.
    package var deletedSegments: [Int]
    /// Why the repair was needed.
    package var reason: String

    package var description: String {
        "truncated WAL segment \(WALSegment.fileName(index: segmentIndex)) from \(originalSizeBytes) to \(keptBytes) bytes "
            + "(\(keptRecords) records kept), deleted \(deletedSegments.count) later segments: \(reason)"
    }
}

extension WAL {
    /// Repairs a WAL directory after a replay found `corruption`, as Prometheus' `WL.Repair`:
    /// the corrupt segment keeps its records up to the last intact one before
    /// `corruption.offset` (the rest of that page is zero-filled so the segment ends on a page
    /// boundary), and every later segment is deleted, since records after a lost one may depend
    /// on it. Call it before opening the WAL for writing; the next ``WAL`` opened on the
    /// directory starts a new segment after the repaired one.
    ///
    /// Throws `.corrupt` when the corruption is in a checkpoint (a checkpoint cannot be repaired:
    /// delete it and the WAL segments are replayed from their start), `.invalidArgument` when
    /// the segment does not exist, `.io` on file-system errors.
    @discardableResult
    package static func repair(directory: String, corruption: WALCorruption) throws(WALError) -> WALRepairSummary {
        guard corruption.directory == directory else {
            throw WALError(
                code: .corrupt,
                message: "cannot repair \(corruption): it is not in the WAL directory \(directory); "
                    + "a corrupt checkpoint must be removed by hand")
        }
        let segments = try WALSegment.list(in: directory)
        guard let segment = segments.first(where: { $0.index == corruption.segmentIndex }) else {
            throw WALError(code: .invalidArgument, message: "cannot repair \(corruption): the segment does not exist")
        }

        // Find the end of the last intact record before the corruption.
        let reader = WALReader(directory: directory, segments: [segment])
        var keptBytes = 0
        var keptRecords = 0
        while try reader.next(), reader.recordEndOffset <= corruption.offset {
            keptBytes = reader.recordEndOffset
            keptRecords += 1
        }

        let page = WALSegment.pageSizeBytes
        var file = try WALFile.openForWriting(path: segment.path)
        let originalSize = try file.size()
        try file.truncate(to: keptBytes)
        // Zero-fill the rest of the last page: a type-0 fragment, i.e. page padding.
        try file.truncate(to: (keptBytes + page - 1) / page * page)
        try file.sync()
        try file.close()

        var deleted: [Int] = []
        for later in segments where later.index > segment.index {
            try WALFileSystem.removeFile(later.path)
            deleted.append(later.index)
        }
        try WALFileSystem.syncDirectory(directory)
        return WALRepairSummary(
            segmentIndex: segment.index, originalSizeBytes: originalSize, keptBytes: keptBytes, keptRecords: keptRecords,
            deletedSegments: deleted, reason: corruption.reason)
    }

    /// Deletes the segments numbered below `index` (Prometheus' `WL.Truncate`), typically after
    /// a checkpoint covering them was written. Returns the deleted indexes.
    @discardableResult
    package static func deleteSegments(in directory: String, before index: Int) throws(WALError) -> [Int] {
        var deleted: [Int] = []
        for segment in try WALSegment.list(in: directory) where segment.index < index {
            try WALFileSystem.removeFile(segment.path)
            deleted.append(segment.index)
        }
        return deleted
    }
}
