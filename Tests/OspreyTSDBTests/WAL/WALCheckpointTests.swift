import OspreyModel
import Testing

@testable import OspreyTSDB

struct WALCheckpointTests {
    static func log(_ wal: WAL, _ records: [WALRecord]) throws {
        try wal.log(records: records.map(WALRecordTests.encode))
    }

    static func labels(_ ref: UInt64) -> Labels { Labels(["__name__": "m", "id": "\(ref)"]) }

    @Test func checkpointKeepsOnlyLiveSeriesAndRecentData() throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let wal = try WAL(directory: directory.path)
        try Self.log(wal, [
            .series([RefSeries(ref: 1, labels: Self.labels(1)), RefSeries(ref: 2, labels: Self.labels(2))]),
            .samples([
                RefSample(ref: 1, timestampMs: 100, value: 1), RefSample(ref: 1, timestampMs: 200, value: 2),
                RefSample(ref: 2, timestampMs: 300, value: 3),
            ]),
            .metadata([RefMetadata(ref: 1, type: .counter, unit: "", help: "old"), RefMetadata(ref: 2, type: .gauge, unit: "", help: "x")]),
        ])
        try wal.nextSegment()
        try Self.log(wal, [
            .series([RefSeries(ref: 3, labels: Self.labels(3))]),
            .samples([RefSample(ref: 3, timestampMs: 50, value: 4), RefSample(ref: 3, timestampMs: 250, value: 5)]),
            .tombstones([RefTombstone(ref: 1, minTimeMs: 0, maxTimeMs: 10), RefTombstone(ref: 3, minTimeMs: 0, maxTimeMs: 500)]),
            .exemplars([
                RefExemplar(ref: 1, timestampMs: 150, value: 1, labels: Labels(["trace_id": "a"])),
                RefExemplar(ref: 1, timestampMs: 250, value: 2, labels: Labels(["trace_id": "b"])),
            ]),
            .metadata([RefMetadata(ref: 1, type: .counter, unit: "s", help: "new")]),
            .unknown(type: 5),
        ])
        try wal.nextSegment()
        try Self.log(wal, [.samples([RefSample(ref: 1, timestampMs: 900, value: 9)])])
        try wal.close()

        let statistics = try WALCheckpoint.create(
            directory: directory.path, from: 0, to: 1, keepSeries: { $0 != 2 }, minTimeMs: 200)
        #expect(statistics.droppedSeries == 1)
        #expect(statistics.droppedSamples == 3)  // t=100, series 2, t=50
        #expect(statistics.droppedUnknownRecords == 1)

        let checkpoint = try #require(try WALCheckpoint.last(in: directory.path))
        #expect(checkpoint.index == 1)
        #expect(checkpoint.path == directory.child("checkpoint.00000001"))
        let decoded = try WALTestFiles.readAll(checkpoint.path).records.map {
            try WALRecordDecoder.decode($0, interner: StringInterner())
        }
        #expect(decoded == [
            .series([RefSeries(ref: 1, labels: Self.labels(1))]),
            .samples([RefSample(ref: 1, timestampMs: 200, value: 2)]),
            .series([RefSeries(ref: 3, labels: Self.labels(3))]),
            .samples([RefSample(ref: 3, timestampMs: 250, value: 5)]),
            .tombstones([RefTombstone(ref: 3, minTimeMs: 0, maxTimeMs: 500)]),
            .exemplars([RefExemplar(ref: 1, timestampMs: 250, value: 2, labels: Labels(["trace_id": "b"]))]),
            .metadata([RefMetadata(ref: 1, type: .counter, unit: "s", help: "new")]),
        ])
        #expect(!WALFileSystem.exists(checkpoint.path + ".tmp"))

        // Replay: the checkpoint, then only the segment after it.
        #expect(try WAL.deleteSegments(in: directory.path, before: 2) == [0, 1])
        var samples: [RefSample] = []
        let replay = try WALReplayer(directory: directory.path).replay { record in
            if case .samples(let batch) = record { samples += batch }
        }
        #expect(replay.checkpointIndex == 1)
        #expect(replay.corruption == nil)
        #expect(samples.map(\.timestampMs) == [200, 250, 900])
    }

    @Test func newCheckpointIncludesThePreviousOneAndReplacesIt() throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let wal = try WAL(directory: directory.path, compress: true)
        try Self.log(wal, [.series([RefSeries(ref: 1, labels: Self.labels(1))])])
        try wal.nextSegment()
        try Self.log(wal, [.series([RefSeries(ref: 2, labels: Self.labels(2))])])
        try wal.nextSegment()
        try WALCheckpoint.create(directory: directory.path, from: 0, to: 0, keepSeries: { _ in true }, minTimeMs: 0)
        try WALCheckpoint.create(directory: directory.path, from: 1, to: 1, keepSeries: { _ in true }, minTimeMs: 0, compress: true)
        try wal.close()

        #expect(!WALFileSystem.exists(directory.child("checkpoint.00000000")))
        let checkpoint = try #require(try WALCheckpoint.last(in: directory.path))
        let decoded = try WALTestFiles.readAll(checkpoint.path).records.map {
            try WALRecordDecoder.decode($0, interner: StringInterner())
        }
        #expect(decoded == [.series([RefSeries(ref: 1, labels: Self.labels(1))]), .series([RefSeries(ref: 2, labels: Self.labels(2))])])
    }

    @Test func checkpointLeavingAGapIsRefused() throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let wal = try WAL(directory: directory.path)
        for _ in 0..<3 { try wal.nextSegment() }
        try wal.close()
        try WALCheckpoint.create(directory: directory.path, from: 0, to: 0, keepSeries: { _ in true }, minTimeMs: 0)
        let error = #expect(throws: WALError.self) {
            try WALCheckpoint.create(directory: directory.path, from: 2, to: 2, keepSeries: { _ in true }, minTimeMs: 0)
        }
        #expect(error?.code == .invalidArgument)
    }
}
