import Foundation
import Logging
import OspreyModel
import OspreyStorage
import OspreyTestSupport
@testable import OspreyTSDB
import Testing

struct TSDBAdministrationTests {
    private func temporaryDirectory() -> String {
        let path = NSTemporaryDirectory() + "osprey-admin-\(UInt64.random(in: 0...UInt64.max))"
        try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    private let labelSets = (0..<4).map { Labels(["__name__": "m", "instance": "i\($0)"]) }

    /// Appends `steps` at 15 s from `firstStep`, committed ten minutes at a time; returns the
    /// samples written per series.
    private func fill(_ tsdb: TSDB, steps: Range<Int>) async throws -> [Labels: [Sample]] {
        var written: [Labels: [Sample]] = [:]
        var step = steps.lowerBound
        while step < steps.upperBound {
            let appender = tsdb.appender()
            for one in step..<min(step + 40, steps.upperBound) {
                for (index, labels) in labelSets.enumerated() {
                    let sample = Sample(timestampMs: Int64(one) * 15_000, value: Double(one * (index + 1)))
                    _ = try appender.append(nil, labels: labels, timestampMs: sample.timestampMs, value: sample.value)
                    written[labels, default: []].append(sample)
                }
            }
            _ = try await appender.commit()
            step += 40
        }
        return written
    }

    private func seriesListed(_ tsdb: TSDB) throws -> Set<Labels> {
        let querier = try tsdb.querier(minTimeMs: .min, maxTimeMs: .max)
        let set = try querier.select(sorted: false, hints: SelectHints(startMs: .min, endMs: .max, seriesOnly: true), matchers: [matcher(.equal, "__name__", "m")])
        var out = Set<Labels>()
        while let one = try set.next() { out.insert(one.labels) }
        return out
    }

    @Test func deletedSamplesAreHiddenInBlocksAndHeadAcrossRestartsPersistenceAndCleaning() async throws {
        let directory = temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        var expected: [Labels: [Sample]]
        do {
            let tsdb = try TSDB.open(directory: directory, options: TSDBOptions(), logger: Logger(label: "test"))
            expected = try await fill(tsdb, steps: 0..<1000)
            #expect(try await tsdb.persistHead().count == 1)
            // i1 entirely; i2 from 1 h to 3 h, across the block [0, 2 h) and the head.
            try await tsdb.deleteSeries(matcherSets: [[matcher(.equal, "instance", "i1")]], minTimeMs: .min, maxTimeMs: .max)
            try await tsdb.deleteSeries(matcherSets: [[matcher(.equal, "instance", "i2")]], minTimeMs: 3_600_000, maxTimeMs: 10_800_000)
            expected[labelSets[1]] = nil
            expected[labelSets[2]]?.removeAll { (3_600_000...10_800_000).contains($0.timestampMs) }
            let read = try readAll(tsdb, matchers: [matcher(.equal, "__name__", "m")])
            #expect(read == expected)
            #expect(try seriesListed(tsdb) == Set(expected.keys))
            let querier = try tsdb.querier(minTimeMs: .min, maxTimeMs: .max)
            #expect(try querier.labelValues("instance", matchers: [], limit: 0) == ["i0", "i2", "i3"])
            // Within the deleted range only, i2 is not listed either.
            let inside = try readAll(tsdb, matchers: [matcher(.equal, "instance", "i2")], minTimeMs: 4_000_000, maxTimeMs: 10_000_000)
            #expect(inside.isEmpty)
            let block = try #require(tsdb.loadedBlocks.first)
            #expect(block.hasTombstones)
            // No close: tombstones must be durable without a clean shutdown.
        }
        do {
            let reopened = try TSDB.open(directory: directory, options: TSDBOptions(), logger: Logger(label: "test"))
            #expect(try readAll(reopened, matchers: [matcher(.equal, "__name__", "m")]) == expected)
            #expect(try seriesListed(reopened) == Set(expected.keys))
            // Persisting the head's next range leaves the deleted samples out.
            let more = try await fill(reopened, steps: 1000..<1300)
            for (labels, samples) in more where labels != labelSets[1] { expected[labels, default: []].append(contentsOf: samples) }
            expected[labelSets[1]] = more[labelSets[1]]
            let persisted = try await reopened.persistHead()
            #expect(persisted.map(\.minTime) == [7_200_000])
            #expect(try readAll(reopened, matchers: [matcher(.equal, "__name__", "m")]) == expected)
            let newest = try #require(reopened.loadedBlocks.last)
            #expect(!newest.hasTombstones)
            // i1's 480 samples and i2's from 2 h through 3 h are gone.
            #expect(newest.meta.stats.numSamples == UInt64(480 * 4 - 480 - 241))
            // Cleaning rewrites the first block without its deleted samples.
            let old = try #require(reopened.loadedBlocks.first)
            try await reopened.cleanTombstones()
            #expect(reopened.loadedBlocks.allSatisfy { !$0.hasTombstones })
            #expect(!reopened.loadedBlocks.contains { $0.meta.ulid == old.meta.ulid })
            #expect(!FileManager.default.fileExists(atPath: old.directory))
            let cleaned = try #require(reopened.loadedBlocks.first)
            #expect(cleaned.meta.stats.numSamples == UInt64(480 * 4 - 480 - 240))
            #expect(cleaned.meta.compaction.level == old.meta.compaction.level)
            #expect(try readAll(reopened, matchers: [matcher(.equal, "__name__", "m")]) == expected)
            await reopened.close()
        }
        if FileManager.default.isExecutableFile(atPath: "/usr/bin/promtool") {
            let dump = try BlockWriterTests.run("/usr/bin/promtool", ["tsdb", "dump", directory])
            let lines = dump.split(separator: "\n")
            #expect(lines.count == expected.values.reduce(0) { $0 + $1.count })
        }
    }

    @Test func tombstonesOfABlockAreWrittenInPrometheusFormatAndApplyWhenCompacted() async throws {
        let directory = temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        // Blocks [0, 2 h), [2 h, 4 h) and [6 h, 8 h), 15 s apart.
        for start in [Int64(0), 7_200_000, 21_600_000] {
            let series = labelSets.enumerated().map { index, labels in
                BlockWriter.Series(labels: labels, chunks: HeadChunk.encode((0..<480).map { Sample(timestampMs: start + Int64($0) * 15_000, value: Double($0 * index)) }, samplesPerChunk: 120))
            }
            _ = try BlockWriter.write(series, minTimeMs: start, maxTimeMs: start + 7_200_000, into: directory)
        }
        var options = TSDBOptions()
        options.retentionMs = 30 * 86_400_000
        let tsdb = try TSDB.open(directory: directory, options: options, logger: Logger(label: "test"))
        let victim = labelSets[2]
        let before = try readAll(tsdb, matchers: [matcher(.equal, "__name__", "m")])
        try await tsdb.deleteSeries(matcherSets: [[matcher(.equal, "instance", "i2")]], minTimeMs: 1_000_000, maxTimeMs: 8_000_000)
        // The file decodes as written, and Prometheus' reader agrees (tombstones honoured).
        for block in tsdb.loadedBlocks {
            let file = try MappedFile(path: block.directory + "/tombstones")
            #expect(try Tombstones.decode(file.bytes, path: "tombstones") == block.deletedIntervals)
        }
        let after = try readAll(tsdb, matchers: [matcher(.equal, "__name__", "m")])
        for (labels, samples) in before {
            let kept = labels == victim ? samples.filter { !(1_000_000...8_000_000).contains($0.timestampMs) } : samples
            #expect(after[labels] == kept, "\(labels)")
        }
        #expect(tsdb.loadedBlocks.filter(\.hasTombstones).count == 2)
        // The two first blocks are compacted with the deletions applied; no tombstones remain.
        let compacted = try tsdb.compact()
        #expect(compacted.count == 1)
        #expect(tsdb.loadedBlocks.allSatisfy { !$0.hasTombstones })
        let deletedCount: Int64 = (8_000_000 - 1_000_000) / 15_000 + 1
        let remaining = UInt64(Int64(2 * 4 * 480) - deletedCount)
        #expect(compacted.first?.stats.numSamples == remaining)
        #expect(try readAll(tsdb, matchers: [matcher(.equal, "__name__", "m")]) == after)
    }

    @Test func aSnapshotHardLinksTheBlocksAndWritesTheHeadAsABlock() async throws {
        let directory = temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let tsdb = try TSDB.open(directory: directory, options: TSDBOptions(), logger: Logger(label: "test"))
        var expected = try await fill(tsdb, steps: 0..<1000)
        _ = try await tsdb.persistHead()
        try await tsdb.deleteSeries(matcherSets: [[matcher(.equal, "instance", "i3")]], minTimeMs: 9_000_000, maxTimeMs: .max)
        expected[labelSets[3]]?.removeAll { $0.timestampMs >= 9_000_000 }
        let name = try await tsdb.snapshot(skipHead: false)
        #expect(name.range(of: #"^\d{8}T\d{6}Z-[0-9a-f]+$"#, options: .regularExpression) != nil, "\(name)")
        let snapshot = directory + "/snapshots/" + name
        let block = try #require(tsdb.loadedBlocks.first)
        let original = try FileManager.default.attributesOfItem(atPath: block.directory + "/index")[.systemFileNumber] as? Int
        let linked = try FileManager.default.attributesOfItem(atPath: snapshot + "/" + block.meta.ulid + "/index")[.systemFileNumber] as? Int
        #expect(original != nil && original == linked)
        #expect(FileManager.default.fileExists(atPath: snapshot + "/wal"))
        let copy = try TSDB.openReadOnly(directory: snapshot, logger: Logger(label: "test"))
        #expect(copy.loadedBlocks.count == 2)
        #expect(try readAll(copy, matchers: [matcher(.equal, "__name__", "m")]) == expected)
        let headless = try await tsdb.snapshot(skipHead: true)
        #expect(try TSDB.openReadOnly(directory: directory + "/snapshots/" + headless, logger: Logger(label: "test")).loadedBlocks.count == 1)
        await tsdb.close()
        if FileManager.default.isExecutableFile(atPath: "/usr/bin/promtool") {
            let dump = try BlockWriterTests.run("/usr/bin/promtool", ["tsdb", "dump", snapshot])
            #expect(dump.split(separator: "\n").count == expected.values.reduce(0) { $0 + $1.count })
        }
    }
}
