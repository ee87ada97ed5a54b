import Foundation
import Logging
import OspreyEncoding
import OspreyModel
import OspreyStorage
import OspreyTestSupport
@testable import OspreyTSDB
import Testing

struct BlockReaderTests {
    /// Every series and sample of the blocks in `directory`, through the querier contract.
    static func readBlocks(_ directory: String, matchers: [LabelMatcher] = [matcher(.regexMatch, "__name__", ".+")]) throws -> [Labels: [Sample]] {
        var out: [Labels: [Sample]] = [:]
        for name in try FileManager.default.contentsOfDirectory(atPath: directory).sorted() where ULID(name) != nil {
            let block = try Block(directory: directory + "/" + name)
            let querier = block.querier(minTimeMs: .min, maxTimeMs: .max)
            let set = try querier.select(sorted: true, hints: nil, matchers: matchers)
            var previous: Labels?
            while let series = try set.next() {
                if let previous { #expect(previous < series.labels, "series out of order in block \(name)") }
                previous = series.labels
                var samples: [Sample] = []
                series.appendFloats(to: &samples)
                out[series.labels, default: []].append(contentsOf: samples)
            }
        }
        return out
    }

    static func expectSameSamples(_ got: [Sample], _ want: [Sample], _ what: String) {
        #expect(got.map(\.timestampMs) == want.map(\.timestampMs), "\(what)")
        #expect(got.map(\.value.bitPattern) == want.map(\.value.bitPattern), "\(what)")
    }

    @Test func readsBackWhatTheWriterWrote() async throws {
        let series = try await BlockWriterTests.headSeries(seriesCount: 30)
        let directory = try BlockWriterTests.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let meta = try BlockWriter.write(
            series.map { BlockWriter.Series(labels: $0.labels, chunks: $0.chunks) }, minTimeMs: 0, maxTimeMs: 7_200_000, into: directory, chunkSegmentSizeBytes: 8192
        )
        let read = try Self.readBlocks(directory)
        #expect(read.count == series.count)
        for one in series {
            Self.expectSameSamples(read[one.labels] ?? [], one.samples, "\(one.labels)")
        }
        // Matchers, label names and values, a time window.
        let block = try Block(directory: directory + "/" + meta.ulid)
        #expect(block.meta == meta)
        let querier = block.querier(minTimeMs: 600_000, maxTimeMs: 1_200_000)
        let set = try querier.select(sorted: true, hints: nil, matchers: [matcher(.equal, "__name__", "temperature"), matcher(.regexMatch, "job", "j[01]"), matcher(.notEqual, "instance", "host-1")])
        var selected: [Labels] = []
        while let one = try set.next() {
            selected.append(one.labels)
            var samples: [Sample] = []
            one.appendFloats(to: &samples)
            let want = series.first { $0.labels == one.labels }!.samples.filter { $0.timestampMs >= 600_000 && $0.timestampMs <= 1_200_000 }
            Self.expectSameSamples(samples, want, "\(one.labels) in the window")
        }
        let expected = series.map(\.labels).filter { $0["__name__"] == "temperature" && ["j0", "j1"].contains($0["job"] ?? "") && $0["instance"] != "host-1" }
        #expect(selected == expected)
        #expect(try querier.labelNames(matchers: [], limit: 0) == ["__name__", "instance", "job"])
        #expect(try querier.labelValues("job", matchers: [], limit: 0) == ["j0", "j1", "j2"])
        #expect(try querier.labelValues("job", matchers: [matcher(.equal, "instance", "host-4")], limit: 0) == ["j1"])
    }

    @Test func damagedBlocksAreErrorsNamingTheFile() async throws {
        let series = try await BlockWriterTests.headSeries(seriesCount: 5)
        let directory = try BlockWriterTests.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let meta = try BlockWriter.write(series.map { BlockWriter.Series(labels: $0.labels, chunks: $0.chunks) }, minTimeMs: 0, maxTimeMs: 7_200_000, into: directory)
        let blockDirectory = directory + "/" + meta.ulid
        var index = try Data(contentsOf: URL(fileURLWithPath: blockDirectory + "/index"))
        index[index.count - 10] ^= 0xFF  // inside the TOC
        try index.write(to: URL(fileURLWithPath: blockDirectory + "/index"))
        let error = #expect(throws: BlockError.self) { try Block(directory: blockDirectory) }
        #expect(error?.code == .corrupt && error?.message.contains(blockDirectory) == true)
        try FileManager.default.removeItem(atPath: blockDirectory + "/index")
        #expect(throws: BlockError.self) { try Block(directory: blockDirectory) }
    }

    @Test func aTruncatedChunkFileIsReportedWithTheBlockAndDoesNotStopOtherSeries() async throws {
        let series = try await BlockWriterTests.headSeries(seriesCount: 10)
        let directory = try BlockWriterTests.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let meta = try BlockWriter.write(series.map { BlockWriter.Series(labels: $0.labels, chunks: $0.chunks) }, minTimeMs: 0, maxTimeMs: 7_200_000, into: directory)
        // Cut the last chunks off the segment.
        let segment = directory + "/" + meta.ulid + "/chunks/000001"
        let bytes = try Data(contentsOf: URL(fileURLWithPath: segment))
        try bytes.prefix(bytes.count - 300).write(to: URL(fileURLWithPath: segment))
        let messages = CapturedLog()
        let block = try Block(directory: directory + "/" + meta.ulid, logger: Logger(label: "test") { _ in messages })
        let set = try block.querier(minTimeMs: .min, maxTimeMs: .max).select(sorted: true, hints: nil, matchers: [matcher(.regexMatch, "__name__", ".+")])
        var complete = 0
        var short = 0
        while let one = try set.next() {
            var samples: [Sample] = []
            one.appendFloats(to: &samples)
            if samples.count == 460 { complete += 1 } else { short += 1 }
        }
        #expect(complete >= 8 && short >= 1)
        #expect(messages.lines.count == 1 && messages.lines[0].contains(meta.ulid), "\(messages.lines)")
    }

    /// Blocks written by Prometheus' own code (promtool's backfill) read back sample for sample.
    @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/promtool")))
    func readsBlocksPrometheusWrote() throws {
        let directory = try BlockWriterTests.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        var text = ""
        var expected: [Labels: [Sample]] = [:]
        for index in 0..<20 {
            let name = index % 2 == 0 ? "jobs_total" : "queue_depth"
            let labels = Labels(["__name__": name, "worker": "w\(index)", "zone": "z\(index % 4)"])
            text += "# TYPE \(name) \(index % 2 == 0 ? "counter" : "gauge")\n"
            for step in 0..<700 {  // ~2.9 h at 15 s: two blocks
                let value = index % 2 == 0 ? Double(step * 3 + index) : Double(step % 13) / 4
                let timestampMs = Int64(1_700_000_000_000) + Int64(step) * 15_000
                text += "\(name){worker=\"w\(index)\",zone=\"z\(index % 4)\"} \(value) \(Double(timestampMs) / 1000)\n"
                expected[labels, default: []].append(Sample(timestampMs: timestampMs, value: value))
            }
        }
        text += "# EOF\n"
        let input = directory + "/input.om"
        try text.write(toFile: input, atomically: true, encoding: .utf8)
        let output = directory + "/data"
        try FileManager.default.createDirectory(atPath: output, withIntermediateDirectories: false)
        _ = try BlockWriterTests.run("/usr/bin/promtool", ["tsdb", "create-blocks-from", "openmetrics", input, output])
        let read = try Self.readBlocks(output)
        #expect(read.count == expected.count)
        for (labels, samples) in expected {
            let got = (read[labels] ?? []).sorted { $0.timestampMs < $1.timestampMs }
            Self.expectSameSamples(got, samples, "\(labels)")
        }
    }
}

/// A log handler that keeps the messages with their metadata.
final class CapturedLog: LogHandler, @unchecked Sendable {
    private let lock = NSLock()
    private var stored: [String] = []
    var metadata: Logger.Metadata = [:]
    var logLevel: Logger.Level = .trace

    var lines: [String] { lock.withLock { stored } }

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(level: Logger.Level, message: Logger.Message, metadata: Logger.Metadata?, source: String, file: String, function: String, line: UInt) {
        let text = "\(message) \(metadata ?? [:])"
        lock.withLock { stored.append(text) }
    }
}
