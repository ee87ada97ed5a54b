import Foundation
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

    @Test func aSecondOpenOfTheSameDirectoryIsRefused() throws {
        let directory = temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let first = try TSDB.open(directory: directory, options: TSDBOptions(), logger: Logger(label: "test"))
        #expect(throws: StorageError.self) { try TSDB.open(directory: directory, options: TSDBOptions(), logger: Logger(label: "test")) }
        _ = first
    }
}
