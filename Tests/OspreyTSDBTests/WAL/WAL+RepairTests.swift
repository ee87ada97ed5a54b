import Testing

@testable import OspreyTSDB

struct WALRepairTests {
    @Test func repairKeepsIntactRecordsDeletesLaterSegmentsAndAppendingContinues() throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let written = WALReaderTests.records(4, size: 9_000)
        let (path, ends) = try WALReaderTests.writeSegment(directory, written)
        // Later segments that must go: records after a lost one may depend on it.
        let later = try WAL(directory: directory.path)
        try later.log([0x09])
        try later.close()
        var bytes = WALTestFiles.read(path)
        bytes.removeLast(100)
        WALTestFiles.write(path, bytes)

        let corruption = try #require(try WALTestFiles.readAll(directory.path).corruption)
        #expect(corruption.segmentIndex == 0)
        let summary = try WAL.repair(directory: directory.path, corruption: corruption)
        #expect(summary.keptRecords == 3)
        #expect(summary.keptBytes == ends[2])
        #expect(summary.deletedSegments == [1])
        #expect(WALTestFiles.size(path) % WALSegment.pageSizeBytes == 0)

        let reopened = try WAL(directory: directory.path)
        #expect(reopened.lastSegmentIndex == 1)
        try reopened.log([0x0A, 0x0B])
        try reopened.close()
        let (records, after) = try WALTestFiles.readAll(directory.path)
        #expect(after == nil)
        #expect(records == Array(written.prefix(3)) + [[0x0A, 0x0B]])
    }

    @Test func repairOfACorruptionInACheckpointIsRefused() throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let corruption = WALCorruption(directory: directory.child("checkpoint.00000003"), segmentIndex: 0, offset: 0, reason: "test")
        let error = #expect(throws: WALError.self) { try WAL.repair(directory: directory.path, corruption: corruption) }
        #expect(error?.code == .corrupt)
    }
}
