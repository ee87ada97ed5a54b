import Foundation
import OspreyModel
import Testing

@testable import OspreyTSDB

/// Byte compatibility with a real Prometheus 2.42 (Debian's `prometheus` and `promtool`).
/// Skipped when the binaries are not installed.
@Suite(.enabled(if: PrometheusBinaries.available, "needs /usr/bin/prometheus and /usr/bin/promtool"))
struct PrometheusInteropTests {
    /// `promtool tsdb dump` replays `DATA/wal` into a head exactly as Prometheus does at start-up.
    @Test(arguments: [false, true])
    func promtoolReadsTheWALWeWrite(compress: Bool) throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let walDirectory = directory.child("wal")
        let wal = try WAL(directory: walDirectory, segmentSizeBytes: 2 * WALSegment.pageSizeBytes, compress: compress)
        let baseMs: Int64 = 1_700_000_000_000
        var records: [[UInt8]] = []
        var series: [UInt8] = []
        WALRecordEncoder.encodeSeries(
            (1...40).map { RefSeries(ref: UInt64($0), labels: Labels(["__name__": "osprey_wal_interop", "id": "\($0)", "job": "osprey"])) },
            into: &series)
        records.append(series)
        try wal.log(records: records)
        // Many commits so that records span pages and segments.
        for step in 0..<300 {
            var samples: [UInt8] = []
            WALRecordEncoder.encodeSamples(
                (1...40).map { RefSample(ref: UInt64($0), timestampMs: baseMs + Int64(step) * 15_000, value: Double($0 * 1000 + step)) },
                into: &samples)
            try wal.log(samples)
        }
        // Not closed: the last page stays partial, as after `kill -9`.
        #expect(try WALSegment.list(in: walDirectory).count > 1)

        let output = try PrometheusBinaries.run(["/usr/bin/promtool", "tsdb", "dump", directory.path])
        let lines = output.split(separator: "\n").filter { $0.contains("osprey_wal_interop") }
        #expect(lines.count == 40 * 300)
        #expect(lines.contains { $0.contains("id=\"7\"") && $0.hasSuffix("7299 \(baseMs + 299 * 15_000)") })
        _ = wal
    }

    /// Prometheus scrapes itself for a few seconds, is killed with SIGKILL, and we replay its WAL
    /// (Snappy-compressed by default in 2.42).
    @Test func weReadTheWALPrometheusWrites() throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let port = try PrometheusBinaries.freePort()
        let config = directory.child("prometheus.yml")
        try """
            global:
              scrape_interval: 1s
            scrape_configs:
              - job_name: self
                static_configs:
                  - targets: ["127.0.0.1:\(port)"]
            """.write(toFile: config, atomically: true, encoding: .utf8)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/prometheus")
        process.arguments = [
            "--storage.tsdb.path=\(directory.child("data"))", "--web.listen-address=127.0.0.1:\(port)", "--config.file=\(config)",
        ]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        let segment = directory.child("data/wal/00000000")
        // Wait for a few scrapes (not an assertion: the check below is on content).
        for _ in 0..<300 where WALTestFiles.size(segment) < 12_000 {
            usleep(100_000)
        }
        usleep(2_000_000)
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()

        var seriesByRef: [UInt64: Labels] = [:]
        var samples: [RefSample] = []
        let statistics = try WALReplayer(directory: directory.child("data/wal")).replay { record in
            switch record {
            case .series(let batch): for entry in batch { seriesByRef[entry.ref] = entry.labels }
            case .samples(let batch): samples += batch
            default: break
            }
        }
        #expect(statistics.corruption == nil)
        #expect(seriesByRef.values.contains { $0.metricName == "up" && $0["job"] == "self" })
        #expect(samples.count > 100)
        #expect(samples.allSatisfy { seriesByRef[$0.ref] != nil })
        let up = try #require(seriesByRef.first { $0.value.metricName == "up" }?.key)
        #expect(samples.contains { $0.ref == up && $0.value == 1 })
    }
}

enum PrometheusBinaries {
    static let available =
        FileManager.default.isExecutableFile(atPath: "/usr/bin/prometheus")
        && FileManager.default.isExecutableFile(atPath: "/usr/bin/promtool")

    /// Runs a command to completion and returns its standard output.
    static func run(_ arguments: [String]) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: arguments[0])
        process.arguments = Array(arguments.dropFirst())
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = FileHandle.nullDevice
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return String(decoding: data, as: UTF8.self)
    }

    /// A TCP port on 127.0.0.1 that was free a moment ago.
    static func freePort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) } }
        _ = withUnsafeMutablePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) } }
        return Int(UInt16(bigEndian: address.sin_port))
    }
}
