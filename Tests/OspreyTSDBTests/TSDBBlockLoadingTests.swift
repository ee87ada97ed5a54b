import Foundation
import Logging
import OspreyModel
import OspreyStorage
import OspreyTestSupport
@testable import OspreyTSDB
import Testing

struct TSDBBlockLoadingTests {
    private func temporaryDirectory() -> String {
        let path = NSTemporaryDirectory() + "osprey-load-\(UInt64.random(in: 0...UInt64.max))"
        try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    @Test func blocksMovedIntoARunningDataDirectoryAreLoadedAndCompactedWithOverlaps() async throws {
        let directory = temporaryDirectory()
        let outside = temporaryDirectory()
        defer {
            try? FileManager.default.removeItem(atPath: directory)
            try? FileManager.default.removeItem(atPath: outside)
        }
        let tsdb = try TSDB.open(directory: directory, options: TSDBOptions(), logger: Logger(label: "test"))
        let labels = Labels(["__name__": "backfilled", "job": "a"])
        // Two overlapping blocks, as two backfills of the same hour would leave them.
        let first = (0..<240).map { Sample(timestampMs: Int64($0) * 15_000, value: Double($0)) }
        let second = (120..<360).map { Sample(timestampMs: Int64($0) * 15_000, value: Double($0)) }
        var ids: [String] = []
        for samples in [first, second] {
            let meta = try BlockWriter.write(
                [BlockWriter.Series(labels: labels, chunks: HeadChunk.encode(samples, samplesPerChunk: 120))],
                minTimeMs: samples[0].timestampMs, maxTimeMs: samples[samples.count - 1].timestampMs + 1, into: outside
            )
            ids.append(meta.ulid)
            #expect(rename(outside + "/" + meta.ulid, directory + "/" + meta.ulid) == 0)
        }
        // A damaged block is reported and skipped, now and on later passes.
        try FileManager.default.createDirectory(atPath: directory + "/01JDAMAGEDBBBCK0000000000A", withIntermediateDirectories: true)
        #expect(tsdb.loadedBlocks.isEmpty)

        let loaded = tsdb.loadNewBlocks()
        #expect(Set(loaded.map(\.ulid)) == Set(ids))
        #expect(tsdb.loadNewBlocks().isEmpty)
        let expected = (0..<360).map { Sample(timestampMs: Int64($0) * 15_000, value: Double($0)) }
        #expect(try readAll(tsdb, matchers: [matcher(.equal, "__name__", "backfilled")]) == [labels: expected])

        let compacted = try tsdb.compact()
        #expect(compacted.count == 1)
        #expect(tsdb.loadedBlocks.count == 1)
        #expect(try readAll(tsdb, matchers: [matcher(.equal, "__name__", "backfilled")]) == [labels: expected])
        await tsdb.close()
    }
}
