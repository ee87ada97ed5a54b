import Foundation
import OspreyEncoding
import OspreyModel
import OspreyStorage
import OspreyTestSupport
@testable import OspreyTSDB
import Synchronization
import Testing

struct ULIDTests {
    @Test func textRoundTripsAndSortsByTime() throws {
        var generator = SystemRandomNumberGenerator()
        let early = ULID(timestampMs: 1_700_000_000_000, using: &generator)
        let late = ULID(timestampMs: 1_700_000_000_001, using: &generator)
        #expect(early.description.count == 26)
        #expect(ULID(early.description) == early)
        #expect(ULID(early.description.lowercased()) == early)
        #expect(early.timestampMs == 1_700_000_000_000)
        #expect(early < late && early.description < late.description)
        #expect(ULID("01ARZ3NDEKTSV4RRFFQ69G5FAV")?.timestampMs == 1_469_922_850_259)
        #expect(ULID("81ARZ3NDEKTSV4RRFFQ69G5FAV") == nil)
        #expect(ULID("01ARZ3NDEKTSV4RRFFQ69G5FA") == nil)
    }
}

struct BlockWriterTests {
    /// A head holding `seriesCount` series over the first two hours, with a staleness marker
    /// and NaN among the values; returns each series' samples and its chunks.
    static func headSeries(seriesCount: Int) async throws -> [(labels: Labels, samples: [Sample], chunks: [HeadChunk])] {
        let store = InMemoryHead()
        var expected: [Labels: [Sample]] = [:]
        let appender = store.appender()
        for index in 0..<seriesCount {
            let labels = Labels(["__name__": index % 2 == 0 ? "requests_total" : "temperature", "instance": "host-\(index)", "job": "j\(index % 3)"])
            var samples: [Sample] = []
            for step in 0..<460 {  // 115 minutes at 15 s
                var value = index % 2 == 0 ? Double(step * (index + 1)) : 20 + Double(step % 17) / 7
                if step == 200 && index % 5 == 0 { value = StaleMarker.value }
                if step == 300 && index % 7 == 0 { value = .nan }
                let sample = Sample(timestampMs: Int64(step) * 15_000 + Int64(index), value: value)
                _ = try appender.append(nil, labels: labels, timestampMs: sample.timestampMs, value: sample.value)
                samples.append(sample)
            }
            expected[labels] = samples
        }
        _ = try await appender.commit()
        return expected.keys.sorted().map { labels in
            let chunks = store.head.series.series(labels: labels, hash: labels.stableHash)!.state.withLock { $0.snapshot().chunks }
            return (labels, expected[labels]!, chunks)
        }
    }

    static func temporaryDirectory() throws -> String {
        let path = NSTemporaryDirectory() + "osprey-block-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    @Test func writesACompleteBlockDirectory() async throws {
        let series = try await Self.headSeries(seriesCount: 20)
        let directory = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let meta = try BlockWriter.write(series.map { BlockWriter.Series(labels: $0.labels, chunks: $0.chunks) }, minTimeMs: 0, maxTimeMs: 7_200_000, into: directory)
        let block = directory + "/" + meta.ulid
        let names = try FileManager.default.contentsOfDirectory(atPath: directory)
        #expect(names == [meta.ulid])
        #expect(Set(try FileManager.default.contentsOfDirectory(atPath: block)) == ["chunks", "index", "meta.json", "tombstones"])
        #expect(try FileManager.default.contentsOfDirectory(atPath: block + "/chunks") == ["000001"])
        #expect(meta.stats.numSeries == 20 && meta.stats.numSamples == 20 * 460)
        let decoded = try BlockMeta.decode(Array(try Data(contentsOf: URL(fileURLWithPath: block + "/meta.json"))), path: block)
        #expect(decoded == meta)
        #expect(Array(try Data(contentsOf: URL(fileURLWithPath: block + "/tombstones"))) == [0x01, 0x30, 0xBA, 0x30, 0x01, 0, 0, 0, 0])
        let index = Array(try Data(contentsOf: URL(fileURLWithPath: block + "/index")))
        #expect(Array(index.prefix(5)) == [0xBA, 0xAA, 0xD7, 0x00, 0x02])
        // The TOC's CRC covers its six offsets.
        let toc = Array(index.suffix(52))
        #expect(CRC32C.checksum(Array(toc.prefix(48))) == UInt32(toc[48]) << 24 | UInt32(toc[49]) << 16 | UInt32(toc[50]) << 8 | UInt32(toc[51]))
    }

    @Test func refusesUnsortedSeriesAndChunksOutsideTheBlock() async throws {
        let series = try await Self.headSeries(seriesCount: 3)
        let directory = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        #expect(throws: BlockError.self) {
            try BlockWriter.write(series.reversed().map { BlockWriter.Series(labels: $0.labels, chunks: $0.chunks) }, minTimeMs: 0, maxTimeMs: 7_200_000, into: directory)
        }
        #expect(throws: BlockError.self) {
            try BlockWriter.write(series.map { BlockWriter.Series(labels: $0.labels, chunks: $0.chunks) }, minTimeMs: 0, maxTimeMs: 3_600_000, into: directory)
        }
    }

    /// Debian's promtool (installed by scripts/install-test-deps.sh) lists and analyzes the
    /// block and dumps exactly the samples that went in.
    @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/promtool")))
    func promtoolListsAnalyzesAndDumpsTheBlock() async throws {
        let series = try await Self.headSeries(seriesCount: 50)
        let directory = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        // Small segments, so that chunk references cross segment files.
        let meta = try BlockWriter.write(
            series.map { BlockWriter.Series(labels: $0.labels, chunks: $0.chunks) }, minTimeMs: 0, maxTimeMs: 7_200_000, into: directory, chunkSegmentSizeBytes: 4096
        )
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory + "/" + meta.ulid + "/chunks").count > 1)
        // A data directory: promtool also reads its (here empty) WAL.
        try FileManager.default.createDirectory(atPath: directory + "/wal", withIntermediateDirectories: false)
        let list = try Self.run("/usr/bin/promtool", ["tsdb", "list", directory])
        #expect(list.contains(meta.ulid), "\(list)")
        let analysis = try Self.run("/usr/bin/promtool", ["tsdb", "analyze", directory, meta.ulid])
        #expect(analysis.contains("Series: 50") && analysis.contains("Postings (unique label pairs): 55"), "\(analysis)")
        let dump = try Self.run("/usr/bin/promtool", ["tsdb", "dump", directory])
        var dumped: [String: [(Int64, String)]] = [:]
        for line in dump.split(separator: "\n") {
            // {labels} value timestamp
            let parts = line.split(separator: " ")
            guard parts.count >= 3, let timestamp = Int64(parts[parts.count - 1]) else { continue }
            dumped[parts[0..<(parts.count - 2)].joined(separator: " "), default: []].append((timestamp, String(parts[parts.count - 2])))
        }
        #expect(dumped.count == series.count)
        for one in series {
            let key = one.labels.braced
            let points = try #require(dumped[key], "\(key) missing from promtool's dump")
            #expect(points.map(\.0) == one.samples.map(\.timestampMs), "\(key)")
            for (point, sample) in zip(points, one.samples) {
                let value = Double(point.1)
                #expect(value == sample.value || (value?.isNaN == true && sample.value.isNaN), "\(key) at \(point.0): \(point.1) vs \(sample.value)")
            }
        }
    }

    static func run(_ executable: String, _ arguments: [String]) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        let output = Pipe()
        process.standardOutput = output
        process.standardError = output
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        let text = String(decoding: data, as: UTF8.self)
        guard process.terminationStatus == 0 else { throw BlockError(.io, "\(executable) \(arguments.joined(separator: " ")) failed: \(text)") }
        return text
    }
}
