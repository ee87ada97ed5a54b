import Foundation
import Logging
import OspreyModel
import OspreyStorage
import OspreyTestSupport
@testable import OspreyTSDB
import Testing

struct HeadSeriesCollectionTests {
    private func temporaryDirectory() -> String {
        let path = NSTemporaryDirectory() + "osprey-gc-\(UInt64.random(in: 0...UInt64.max))"
        try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    @Test func seriesWhoseSamplesAreAllInBlocksLeaveTheHeadAndTheCheckpoint() async throws {
        let directory = temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let gone = (0..<5).map { Labels(["__name__": "churned", "pod": "p\($0)"]) }
        let kept = Labels(["__name__": "steady"])
        var expected: [Labels: [Sample]] = [:]
        do {
            let tsdb = try TSDB.open(directory: directory, options: TSDBOptions(), logger: Logger(label: "test"))
            // `churned` series live for the first hour only; `steady` for 4 h 10 min.
            for batch in 0..<25 {
                let appender = tsdb.appender()
                for step in (batch * 40)..<((batch + 1) * 40) {
                    let time = Int64(step) * 15_000
                    _ = try appender.append(nil, labels: kept, timestampMs: time, value: Double(step))
                    expected[kept, default: []].append(Sample(timestampMs: time, value: Double(step)))
                    if step < 240 {
                        for labels in gone {
                            _ = try appender.append(nil, labels: labels, timestampMs: time, value: 1)
                            expected[labels, default: []].append(Sample(timestampMs: time, value: 1))
                        }
                    }
                }
                _ = try await appender.commit()
            }
            #expect(tsdb.head.series.seriesCount == 6)
            _ = try await tsdb.persistHead()
            #expect(tsdb.head.series.seriesCount == 1)
            #expect(tsdb.head.postings.labelValues("pod").isEmpty)
            #expect(tsdb.head.postings.postings(matching: [matcher(.equal, "__name__", "churned")]).isEmpty)
            // Still read from the block.
            #expect(try readAll(tsdb, matchers: [matcher(.regexMatch, "__name__", ".+")]) == expected)
        }
        // The checkpoint left them out: the replayed head has only the live series.
        let reopened = try TSDB.open(directory: directory, options: TSDBOptions(), logger: Logger(label: "test"))
        #expect(reopened.head.series.seriesCount == 1)
        #expect(try readAll(reopened, matchers: [matcher(.regexMatch, "__name__", ".+")]) == expected)
        await reopened.close()
    }

    @Test func anAppenderHoldingADroppedSeriesPutsItBack() async throws {
        let directory = temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let labels = Labels(["__name__": "revived"])
        do {
            let tsdb = try TSDB.open(directory: directory, options: TSDBOptions(), logger: Logger(label: "test"))
            let first = tsdb.appender()
            let ref = try first.append(nil, labels: labels, timestampMs: 1_000, value: 1)
            _ = try await first.commit()
            tsdb.head.truncate(before: 5_000)
            // Appender A buffers a sample; B buffers a newer one (taking over the series'
            // pending marker) and rolls back. The series holds no sample and no open appender
            // is marked on it: it is dropped, though A still holds it.
            let a = tsdb.head.appender()
            let b = tsdb.head.appender()
            _ = try a.append(nil, labels: labels, timestampMs: 6_000, value: 6)
            _ = try b.append(nil, labels: labels, timestampMs: 7_000, value: 7)
            b.rollback()
            // A series with an open appender's sample is kept.
            let pending = tsdb.head.appender()
            _ = try pending.append(nil, labels: Labels(["__name__": "pending"]), timestampMs: 6_000, value: 1)
            #expect(tsdb.head.collectEmptySeries() == 1)
            #expect(tsdb.head.series.series(labels: labels, hash: labels.stableHash) == nil)
            pending.rollback()
            _ = try await a.commit()
            let series = try #require(tsdb.head.series.series(labels: labels, hash: labels.stableHash))
            #expect(series.ref == ref.rawValue)
            #expect(tsdb.head.postings.postings(matching: [matcher(.equal, "__name__", "revived")]) == [ref.rawValue])
            #expect(try readAll(tsdb, matchers: [matcher(.equal, "__name__", "revived")]) == [labels: [Sample(timestampMs: 6_000, value: 6)]])
            // Logged again with its series record: a checkpoint now keeps it.
            try tsdb.head.wal?.checkpoint(keepSeries: { !tsdb.head.checkpointDrops($0) }, minTimeMs: 5_000)
        }
        let reopened = try TSDB.open(directory: directory, options: TSDBOptions(), logger: Logger(label: "test"))
        #expect(try readAll(reopened, matchers: [matcher(.equal, "__name__", "revived")]) == [labels: [Sample(timestampMs: 6_000, value: 6)]])
        await reopened.close()
    }
}
