import OspreyModel
import Testing

@testable import OspreyTSDB

struct WALReaderTests {
    static let page = WALSegment.pageSizeBytes

    /// Writes `records` to a fresh WAL (not closed, so the last page stays partial, as after a
    /// crash) and returns the segment path and the end offset of each record.
    static func writeSegment(_ directory: TemporaryDirectory, _ records: [[UInt8]]) throws -> (path: String, ends: [Int]) {
        let wal = try WAL(directory: directory.path)
        var ends: [Int] = []
        let path = directory.child("00000000")
        for record in records {
            try wal.log(record)
            ends.append(WALTestFiles.size(path))
        }
        return (path, ends)
    }

    static func records(_ count: Int, size: Int) -> [[UInt8]] {
        (0..<count).map { WALTestFiles.repetitiveRecord(UInt8($0), count: size) }
    }

    @Test func fragmentCutOffByACrashIsReportedAfterTheCompleteRecords() throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let written = Self.records(5, size: 10_000)
        let (path, ends) = try Self.writeSegment(directory, written)
        var bytes = WALTestFiles.read(path)
        bytes.removeLast(3_000)  // inside the last record's data
        WALTestFiles.write(path, bytes)

        let (records, corruption) = try WALTestFiles.readAll(directory.path)
        #expect(records == Array(written.prefix(4)))
        let report = try #require(corruption)
        #expect(report.segmentIndex == 0)
        #expect(report.offset == ends[3])
        #expect(report.reason.contains("cut off"))
    }

    @Test func recordTornBetweenPagesIsReported() throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let written = [WALTestFiles.repetitiveRecord(1, count: 100), WALTestFiles.repetitiveRecord(2, count: 2 * Self.page)]
        let (path, ends) = try Self.writeSegment(directory, written)
        var bytes = WALTestFiles.read(path)
        bytes.removeLast(bytes.count - Self.page)  // the first page survives, the rest is lost
        WALTestFiles.write(path, bytes)

        let (records, corruption) = try WALTestFiles.readAll(directory.path)
        #expect(records == [written[0]])
        #expect(corruption?.offset == ends[0])
        #expect(corruption?.reason.contains("torn") == true)
    }

    @Test func garbageInTheLastPageIsReported() throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let written = Self.records(3, size: 300)
        let (path, ends) = try Self.writeSegment(directory, written)
        var bytes = WALTestFiles.read(path)
        bytes[ends[1] + 20] ^= 0xFF  // inside the third record's data: CRC mismatch
        bytes += [0xDE, 0xAD, 0xBE, 0xEF]
        WALTestFiles.write(path, bytes)

        let (records, corruption) = try WALTestFiles.readAll(directory.path)
        #expect(records == Array(written.prefix(2)))
        #expect(corruption?.offset == ends[1])
        #expect(corruption?.reason.contains("checksum") == true)
    }

    @Test func nonZeroBytesAfterTheLastRecordAreReported() throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let written = Self.records(2, size: 50)
        let (path, ends) = try Self.writeSegment(directory, written)
        var bytes = WALTestFiles.read(path)
        bytes += [0x00, 0x00, 0x07]
        WALTestFiles.write(path, bytes)

        let (records, corruption) = try WALTestFiles.readAll(directory.path)
        #expect(records == written)
        #expect(corruption?.offset == ends[1])
    }

    @Test func zeroFilledTailIsReadAsPadding() throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let written = Self.records(3, size: 5_000)
        let (path, _) = try Self.writeSegment(directory, written)
        var bytes = WALTestFiles.read(path)
        bytes += [UInt8](repeating: 0, count: 3 * Self.page + 17)  // as after a crash on some file systems
        WALTestFiles.write(path, bytes)

        let (records, corruption) = try WALTestFiles.readAll(directory.path)
        #expect(records == written)
        #expect(corruption == nil)
    }

    @Test func recordsInLaterSegmentsAreReadAfterAShortSegment() throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        // A segment that ends mid-page (the writer was killed), then a new one (next start).
        let first = try WAL(directory: directory.path)
        try first.log([0x01, 0x01])
        let second = try WAL(directory: directory.path)
        try second.log([0x02, 0x02])
        #expect(try WALTestFiles.readAll(directory.path).records == [[0x01, 0x01], [0x02, 0x02]])
        try first.close()
        try second.close()
    }

    @Test func zstdCompressedRecordsAreRejectedWithAClearError() throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let (path, _) = try Self.writeSegment(directory, [[0x01, 0x02]])
        var bytes = WALTestFiles.read(path)
        bytes[0] |= 0x10  // zstd flag (Prometheus 3)
        WALTestFiles.write(path, bytes)
        let error = #expect(throws: WALError.self) { _ = try WALTestFiles.readAll(directory.path) }
        #expect(error?.code == .unsupportedFormat)
        #expect(error?.message.contains("zstd") == true)
    }

    @Test func emptyDirectoryHasNoRecords() throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let (records, corruption) = try WALTestFiles.readAll(directory.path)
        #expect(records.isEmpty)
        #expect(corruption == nil)
    }

    @Test(arguments: [21, 22, 23, 24, 25, 26, 27, 28] as [UInt64])
    func damagedSegmentsNeverCrashAndYieldAPrefixOfTheRecords(seed: UInt64) throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        var generator = SeededGenerator(seed: seed)
        let written = (0..<40).map {
            WALTestFiles.halfCompressibleRecord(UInt8($0), count: Int.random(in: 0...20_000, using: &generator), using: &generator)
        }
        let wal = try WAL(directory: directory.path, compress: seed.isMultiple(of: 2))
        try wal.log(records: written)
        try wal.close()
        let path = directory.child("00000000")
        var bytes = WALTestFiles.read(path)
        switch seed % 3 {
        case 0: bytes.removeLast(Int.random(in: 1..<bytes.count, using: &generator))
        case 1:
            for _ in 0..<3 { bytes[Int.random(in: 0..<bytes.count, using: &generator)] ^= UInt8.random(in: 1...255, using: &generator) }
        default:
            let from = Int.random(in: 0..<bytes.count, using: &generator)
            for index in from..<bytes.count { bytes[index] = 0 }
        }
        WALTestFiles.write(path, bytes)

        let (records, corruption) = try WALTestFiles.readAll(directory.path)
        #expect(records == Array(written.prefix(records.count)))
        if records.count < written.count {
            #expect(corruption != nil)
        }
    }
}
