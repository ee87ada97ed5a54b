import Foundation
import OspreyEncoding
import Logging
import OspreyModel
import OspreyStorage
import OspreyTestSupport
@testable import OspreyTSDB
import Synchronization
import Testing

struct TSDBTests {
    private func temporaryDirectory() -> String {
        let path = NSTemporaryDirectory() + "osprey-tsdb-\(UInt64.random(in: 0...UInt64.max))"
        try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    @Test(arguments: WALSyncPolicy.allCases)
    func committedSamplesSurviveReopening(_ policy: WALSyncPolicy) async throws {
        let directory = temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        var options = TSDBOptions()
        options.walSyncPolicy = policy
        let labels = Labels(["__name__": "m", "job": "x"])
        do {
            let tsdb = try TSDB.open(directory: directory, options: options, logger: Logger(label: "test"))
            let appender = tsdb.appender()
            for i in 0..<500 { _ = try appender.append(nil, labels: labels, timestampMs: Int64(i) * 1000, value: Double(i)) }
            _ = try appender.updateMetadata(nil, labels: labels, metadata: MetricMetadata(type: .gauge, help: "h"))
            _ = try await appender.commit()
            // No close: reopening must not depend on a clean shutdown.
        }
        let reopened = try TSDB.open(directory: directory, options: options, logger: Logger(label: "test"))
        #expect(reopened.replayReport.samples == 500)
        #expect(reopened.replayReport.repair == nil)
        let read = try readAll(reopened, matchers: [matcher(.equal, "job", "x")])
        #expect(read[labels]?.count == 500)
        #expect(read[labels]?.last == Sample(timestampMs: 499_000, value: 499))
        let series = try #require(reopened.head.series.series(labels: labels, hash: labels.stableHash))
        #expect(series.state.withLock { $0.metadata } == MetricMetadata(type: .gauge, help: "h"))
        await reopened.close()
    }

    @Test func blocksAndTheHeadAreReadAsOneStore() async throws {
        let directory = temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        // Two hours in a block, the next hour in the head (WAL); a series in both.
        let series = try await BlockWriterTests.headSeries(seriesCount: 6)
        let meta = try BlockWriter.write(series.map { BlockWriter.Series(labels: $0.labels, chunks: $0.chunks) }, minTimeMs: 0, maxTimeMs: 7_200_000, into: directory)
        // Leftovers of an interrupted write, and a block that cannot be read.
        try FileManager.default.createDirectory(atPath: directory + "/01JD3Y8M6V4Q7Z3T9K2W5R1N0A.tmp-for-creation/chunks", withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: directory + "/01JD3Y8M6V4Q7Z3T9K2W5R1N0B", withIntermediateDirectories: true)
        let tsdb = try TSDB.open(directory: directory, options: TSDBOptions(), logger: Logger(label: "test"))
        #expect(tsdb.loadedBlocks.map(\.meta.ulid) == [meta.ulid])
        #expect(!FileManager.default.fileExists(atPath: directory + "/01JD3Y8M6V4Q7Z3T9K2W5R1N0A.tmp-for-creation"))
        let appender = tsdb.appender()
        let shared = series[0].labels
        let fresh = Labels(["__name__": "only_in_head"])
        for step in 0..<240 {
            _ = try appender.append(nil, labels: shared, timestampMs: 7_200_000 + Int64(step) * 15_000, value: Double(step))
            _ = try appender.append(nil, labels: fresh, timestampMs: 7_200_000 + Int64(step) * 15_000, value: 1)
        }
        _ = try await appender.commit()
        // Older than the newest block: out of bounds, as in Prometheus.
        #expect(throws: StorageError.self) { try tsdb.appender().append(nil, labels: shared, timestampMs: 7_199_999, value: 1) }
        let read = try readAll(tsdb, matchers: [matcher(.regexMatch, "__name__", ".+")])
        #expect(read.count == 7)
        #expect(read[shared]?.count == 460 + 240)
        #expect(read[shared]?.map(\.timestampMs) == (series[0].samples.map(\.timestampMs) + (0..<240).map { 7_200_000 + Int64($0) * 15_000 }))
        #expect(read[fresh]?.count == 240)
        for one in series.dropFirst() { #expect(read[one.labels]?.map(\.timestampMs) == one.samples.map(\.timestampMs)) }
        // A range inside the block only reads the block.
        let early = try readAll(tsdb, matchers: [matcher(.equal, "__name__", "temperature")], minTimeMs: 0, maxTimeMs: 1_000_000)
        #expect(early.count == 3 && early.values.allSatisfy { $0.allSatisfy { $0.timestampMs <= 1_000_000 } })
        await tsdb.close()
    }

    @Test func theHeadsOldestRangeIsPersistedAsABlockAndSurvivesReopening() async throws {
        let directory = temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        var expected: [Labels: [Sample]] = [:]
        let labelSets = (0..<10).map { Labels(["__name__": "m", "instance": "i\($0)"]) }
        do {
            let tsdb = try TSDB.open(directory: directory, options: TSDBOptions(), logger: Logger(label: "test"))
            // 4 h 10 min at 15 s, committed 10 minutes at a time, oldest first.
            for batch in 0..<25 {
                let appender = tsdb.appender()
                for step in (batch * 40)..<((batch + 1) * 40) {
                    for (index, labels) in labelSets.enumerated() {
                        let sample = Sample(timestampMs: Int64(step) * 15_000, value: Double(step * index))
                        _ = try appender.append(nil, labels: labels, timestampMs: sample.timestampMs, value: sample.value)
                        expected[labels, default: []].append(sample)
                    }
                }
                _ = try await appender.commit()
            }
            // Older than half a block range behind the newest sample: out of bounds.
            #expect(throws: StorageError.self) { try tsdb.appender().append(nil, labels: labelSets[0], timestampMs: 11_000_000, value: 1) }
            let written = try await tsdb.persistHead()
            #expect(written.map(\.minTime) == [0] && written.map(\.maxTime) == [7_200_000])
            #expect(written.first?.stats.numSamples == 10 * 480)
            #expect(tsdb.head.minTimeMs == 7_200_000)
            let read = try readAll(tsdb, matchers: [matcher(.equal, "__name__", "m")])
            for labels in labelSets { #expect(read[labels] == expected[labels], "\(labels)") }
            // The head holds only the rest; the WAL was checkpointed.
            let chunks = try #require(tsdb.head.series.series(labels: labelSets[3], hash: labelSets[3].stableHash)).state.withLock { $0.snapshot().chunks }
            #expect(chunks.allSatisfy { $0.minTimeMs >= 7_200_000 })
            let wal = try FileManager.default.contentsOfDirectory(atPath: directory + "/wal")
            #expect(wal.contains { $0.hasPrefix("checkpoint.") }, "\(wal)")
            #expect(try await tsdb.persistHead().isEmpty)
            // No close: reopening must not depend on a clean shutdown.
        }
        let reopened = try TSDB.open(directory: directory, options: TSDBOptions(), logger: Logger(label: "test"))
        #expect(reopened.loadedBlocks.count == 1)
        let read = try readAll(reopened, matchers: [matcher(.equal, "__name__", "m")])
        for labels in labelSets { #expect(read[labels] == expected[labels], "\(labels) after reopening") }
        await reopened.close()
        if FileManager.default.isExecutableFile(atPath: "/usr/bin/promtool") {
            let dump = try BlockWriterTests.run("/usr/bin/promtool", ["tsdb", "dump", directory])
            #expect(dump.split(separator: "\n").count == 10 * 1000)
        }
    }

    @Test func aBlockWhoseSamplesAreStillInTheWALIsNotPersistedTwice() async throws {
        let directory = temporaryDirectory()
        let crashed = temporaryDirectory()
        defer {
            try? FileManager.default.removeItem(atPath: directory)
            try? FileManager.default.removeItem(atPath: crashed)
        }
        let labels = Labels(["__name__": "m"])
        let tsdb = try TSDB.open(directory: directory, options: TSDBOptions(), logger: Logger(label: "test"))
        for batch in 0..<25 {
            let appender = tsdb.appender()
            for step in (batch * 40)..<((batch + 1) * 40) { _ = try appender.append(nil, labels: labels, timestampMs: Int64(step) * 15_000, value: Double(step)) }
            _ = try await appender.commit()
        }
        // A crash after the block's rename, before the checkpoint: the block and the whole WAL.
        try FileManager.default.copyItem(atPath: directory + "/wal", toPath: crashed + "/wal")
        let written = try await tsdb.persistHead()
        try FileManager.default.copyItem(atPath: directory + "/" + written[0].ulid, toPath: crashed + "/" + written[0].ulid)
        await tsdb.close()
        let reopened = try TSDB.open(directory: crashed, options: TSDBOptions(), logger: Logger(label: "test"))
        #expect(reopened.head.minTimeMs == 7_200_000)
        #expect(try readAll(reopened, matchers: [matcher(.equal, "__name__", "m")])[labels]?.map(\.timestampMs) == (0..<1000).map { Int64($0) * 15_000 })
        #expect(try await reopened.persistHead().isEmpty)
        await reopened.close()
    }

    /// A one-series block over `[startMs, startMs + 2 h)` with a sample a minute.
    private func writeBlock(at startMs: Int64, into directory: String) throws -> BlockMeta {
        var encoder = XORChunkEncoder()
        for minute in 0..<100 { _ = encoder.append(timestampMs: startMs + Int64(minute) * 60_000, value: Double(minute)) }
        let chunk = HeadChunk(minTimeMs: startMs, maxTimeMs: startMs + 99 * 60_000, bytes: encoder.bytes)
        return try BlockWriter.write([BlockWriter.Series(labels: Labels(["__name__": "kept"]), chunks: [chunk])], minTimeMs: startMs, maxTimeMs: startMs + 7_200_000, into: directory)
    }

    @Test func blocksBeyondTheRetentionAreDeletedWhole() async throws {
        let directory = temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let old = try writeBlock(at: 0, into: directory)
        let middle = try writeBlock(at: 7_200_000, into: directory)
        let newest = try writeBlock(at: 72_000_000, into: directory)
        var options = TSDBOptions()
        options.retentionMs = 10 * 3_600_000
        let tsdb = try TSDB.open(directory: directory, options: options, logger: Logger(label: "test"))
        // The newest block ends at 22 h: blocks ending 10 h or more before are gone at open.
        #expect(tsdb.loadedBlocks.map(\.meta.ulid) == [newest.ulid])
        #expect(!FileManager.default.fileExists(atPath: directory + "/" + old.ulid))
        #expect(!FileManager.default.fileExists(atPath: directory + "/" + middle.ulid))
        #expect(try readAll(tsdb, matchers: [matcher(.equal, "__name__", "kept")]).values.first?.first?.timestampMs == 72_000_000)
        await tsdb.close()

        // By size: the oldest go first until blocks and WAL fit.
        let sized = temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: sized) }
        let blocks = try [0, 7_200_000, 14_400_000].map { try writeBlock(at: $0, into: sized) }
        let one = TSDB.size(of: sized + "/" + blocks[2].ulid)
        var bySize = TSDBOptions()
        bySize.retentionBytes = one + one / 2
        let limited = try TSDB.open(directory: sized, options: bySize, logger: Logger(label: "test"))
        #expect(limited.loadedBlocks.map(\.meta.ulid) == [blocks[2].ulid])
        await limited.close()
    }

    @Test func adjacentBlocksAreCompactedIntoOneAndItsPartsDeleted() async throws {
        let directory = temporaryDirectory()
        let crashed = temporaryDirectory()
        defer {
            try? FileManager.default.removeItem(atPath: directory)
            try? FileManager.default.removeItem(atPath: crashed)
        }
        let parts = try [0, 7_200_000, 14_400_000, 21_600_000].map { try writeBlock(at: $0, into: directory) }
        try FileManager.default.copyItem(atPath: directory + "/" + parts[0].ulid, toPath: crashed + "/" + parts[0].ulid)
        let tsdb = try TSDB.open(directory: directory, options: TSDBOptions(), logger: Logger(label: "test"))
        let before = try readAll(tsdb, matchers: [matcher(.equal, "__name__", "kept")])
        let merged = try tsdb.compact()
        // The first three fill a 6 h range; the newest is left alone.
        #expect(merged.count == 1)
        #expect(merged.first?.minTime == 0 && merged.first?.maxTime == 21_600_000 && merged.first?.compaction.level == 2)
        #expect(Set(merged.first?.compaction.parents?.map(\.ulid) ?? []) == Set(parts.prefix(3).map(\.ulid)))
        #expect(tsdb.loadedBlocks.map(\.meta.ulid) == [merged[0].ulid, parts[3].ulid])
        #expect(try readAll(tsdb, matchers: [matcher(.equal, "__name__", "kept")]) == before)
        let names = try FileManager.default.contentsOfDirectory(atPath: directory).filter { ULID($0) != nil }
        #expect(Set(names) == [merged[0].ulid, parts[3].ulid])
        #expect(try tsdb.compact().isEmpty)
        await tsdb.close()
        if FileManager.default.isExecutableFile(atPath: "/usr/bin/promtool") {
            try FileManager.default.createDirectory(atPath: directory + "/wal", withIntermediateDirectories: true)
            let dump = try BlockWriterTests.run("/usr/bin/promtool", ["tsdb", "dump", directory])
            #expect(dump.split(separator: "\n").count == 400)
        }
        // A crash after the merged block was renamed, before a part was deleted: the part goes at open.
        try FileManager.default.copyItem(atPath: directory + "/" + merged[0].ulid, toPath: crashed + "/" + merged[0].ulid)
        let reopened = try TSDB.open(directory: crashed, options: TSDBOptions(), logger: Logger(label: "test"))
        #expect(reopened.loadedBlocks.map(\.meta.ulid) == [merged[0].ulid])
        #expect(!FileManager.default.fileExists(atPath: crashed + "/" + parts[0].ulid))
        await reopened.close()
    }

    @Test func overlappingBlocksAreMergedSampleBySample() async throws {
        let directory = temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        // Minutes 0…99 from 0 h, and minutes 0…99 from 1 h: 40 timestamps in both.
        let first = try writeBlock(at: 0, into: directory)
        let second = try writeBlock(at: 3_600_000, into: directory)
        let tsdb = try TSDB.open(directory: directory, options: TSDBOptions(), logger: Logger(label: "test"))
        let merged = try tsdb.compact()
        #expect(merged.count == 1 && merged[0].minTime == 0 && merged[0].maxTime == 3 * 3_600_000)
        #expect(Set(merged[0].compaction.parents?.map(\.ulid) ?? []) == [first.ulid, second.ulid])
        #expect(tsdb.loadedBlocks.count == 1)
        let samples = try readAll(tsdb, matchers: [matcher(.equal, "__name__", "kept")]).values.first ?? []
        let expected = (0..<160).map { minute in Sample(timestampMs: Int64(minute) * 60_000, value: Double(minute < 100 ? minute : minute - 60)) }
        #expect(samples == expected)
        await tsdb.close()
    }

    @Test func aSecondOpenOfTheSameDirectoryIsRefused() throws {
        let directory = temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let first = try TSDB.open(directory: directory, options: TSDBOptions(), logger: Logger(label: "test"))
        #expect(throws: StorageError.self) { try TSDB.open(directory: directory, options: TSDBOptions(), logger: Logger(label: "test")) }
        _ = first
    }
}
