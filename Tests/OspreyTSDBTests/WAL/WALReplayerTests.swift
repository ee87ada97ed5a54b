import OspreyModel
import Testing

@testable import OspreyTSDB

struct WALReplayerTests {
    @Test func replayReportsCorruptionAndStatistics() throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let wal = try WAL(directory: directory.path)
        try WALCheckpointTests.log(wal, [
            .series([RefSeries(ref: 1, labels: WALCheckpointTests.labels(1))]),
            .samples([RefSample(ref: 1, timestampMs: 1, value: 1)]),
        ])
        // A record whose fragments are intact but whose payload does not decode.
        try wal.log([0x02, 0x00, 0x01])
        try wal.close()

        var kinds: [String] = []
        let statistics = try WALReplayer(directory: directory.path).replay { record in
            switch record {
            case .series: kinds.append("series")
            case .samples: kinds.append("samples")
            default: kinds.append("other")
            }
        }
        #expect(kinds == ["series", "samples"])
        #expect(statistics.segmentsRead == 1)
        #expect(statistics.recordsRead == 3)
        let corruption = try #require(statistics.corruption)
        #expect(corruption.reason.contains("does not decode"))
        #expect(corruption.segmentIndex == 0)
    }

    @Test func missingDirectoryReplaysNothing() throws {
        let statistics = try WALReplayer(directory: "/tmp/osprey-wal-test-does-not-exist").replay { _ in }
        #expect(statistics == WALReplayStatistics())
    }
}
