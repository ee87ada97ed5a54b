import OspreyEncoding
import OspreyModel
import Testing

@testable import OspreyTSDB

struct WALTests {
    static let page = WALSegment.pageSizeBytes

    @Test(arguments: [false, true])
    func recordsSpanningPagesAndSegmentsReadBackInOrder(compress: Bool) throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        var generator = SeededGenerator(seed: compress ? 11 : 12)
        // Sizes chosen to hit: empty records, tiny ones, exactly one page of data, several pages.
        let sizes = [0, 1, 6, 7, 100, Self.page - 7, Self.page - 8, Self.page, 3 * Self.page + 5, 40_000, 1, 0, 65_000]
        var written: [[UInt8]] = []
        let wal = try WAL(directory: directory.path, segmentSizeBytes: 4 * Self.page, compress: compress)
        for (index, size) in sizes.enumerated() {
            let record =
                index.isMultiple(of: 2)
                ? WALTestFiles.randomRecord(UInt8(index), count: size, using: &generator)
                : WALTestFiles.repetitiveRecord(UInt8(index), count: size)
            written.append(record)
        }
        // Compressed records that still span pages (and, at this segment size, force cuts).
        written.append(WALTestFiles.halfCompressibleRecord(0x70, count: 100_000, using: &generator))
        written.append(WALTestFiles.halfCompressibleRecord(0x71, count: 2 * Self.page, using: &generator))
        // One commit of several records, then one record per commit.
        try wal.log(records: Array(written[0..<5]))
        for record in written[5...] { try wal.log(record) }
        try wal.close()

        let segments = try WALSegment.list(in: directory.path)
        #expect(segments.count > 2)
        #expect(segments.map(\.index) == Array(0..<segments.count))
        // Every segment but the last was completed: a whole number of pages, at most the maximum size.
        for segment in segments.dropLast() {
            let size = WALTestFiles.size(segment.path)
            #expect(size % Self.page == 0)
            #expect(size <= 4 * Self.page)
        }
        let (records, corruption) = try WALTestFiles.readAll(directory.path)
        #expect(corruption == nil)
        #expect(records == written)
    }

    @Test func compressionIsUsedOnlyWhenItMakesTheRecordSmaller() throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        var generator = SeededGenerator(seed: 3)
        let wal = try WAL(directory: directory.path, compress: true)
        try wal.log(WALTestFiles.repetitiveRecord(1, count: 1000))
        try wal.log(WALTestFiles.randomRecord(2, count: 50, using: &generator))
        try wal.close()
        let bytes = WALTestFiles.read(directory.child("00000000"))
        // First fragment: full (1) with the Snappy bit (8).
        #expect(bytes[0] == 0x09)
        let firstLength = Int(bytes[1]) << 8 | Int(bytes[2])
        #expect(firstLength < 1000)
        // Random bytes do not compress: full fragment without the Snappy bit.
        #expect(bytes[7 + firstLength] == 0x01)
        #expect(try WALTestFiles.readAll(directory.path).records.map(\.count) == [1000, 50])
    }

    @Test func fragmentHeaderIsTypeLengthAndCRC32CBigEndian() throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let wal = try WAL(directory: directory.path)
        let record: [UInt8] = [0x02, 0xAB, 0xCD]
        try wal.log(record)
        #expect(WALTestFiles.size(directory.child("00000000")) == 10)  // written before close
        try wal.close()
        let bytes = WALTestFiles.read(directory.child("00000000"))
        let crc = CRC32C.checksum(record)
        let header: [UInt8] = [
            0x01, 0x00, 0x03, UInt8(crc >> 24), UInt8(truncatingIfNeeded: crc >> 16), UInt8(truncatingIfNeeded: crc >> 8),
            UInt8(truncatingIfNeeded: crc),
        ]
        #expect(Array(bytes[0..<7]) == header)
        #expect(Array(bytes[7..<10]) == record)
        // Closing pads the last page with zeros, as Prometheus does.
        #expect(bytes.count == Self.page)
        #expect(bytes[10...].allSatisfy { $0 == 0 })
    }

    @Test func pageIsPaddedWhenFewerThanAHeaderOfBytesRemain() throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let wal = try WAL(directory: directory.path)
        // Leaves 6 bytes in the first page: too few for a header, so they become padding.
        try wal.log([UInt8](repeating: 0x05, count: Self.page - 7 - 6))
        try wal.log([0x05, 0x06])
        try wal.close()
        let bytes = WALTestFiles.read(directory.child("00000000"))
        #expect(bytes[(Self.page - 6)..<Self.page].allSatisfy { $0 == 0 })
        #expect(bytes[Self.page] == 0x01)
        #expect(try WALTestFiles.readAll(directory.path).records.count == 2)
    }

    @Test func exactlyAHeaderOfRoomStartsARecordWithAnEmptyFirstFragment() throws {
        // Prometheus writes a zero-length "first" fragment when exactly 7 bytes remain.
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let wal = try WAL(directory: directory.path)
        try wal.log([UInt8](repeating: 0x05, count: Self.page - 7 - 7))
        try wal.log([0x05, 0x06, 0x07])
        try wal.close()
        let bytes = WALTestFiles.read(directory.child("00000000"))
        #expect(Array(bytes[(Self.page - 7)..<(Self.page - 4)]) == [0x02, 0x00, 0x00])
        #expect(bytes[Self.page] == 0x04)
        #expect(try WALTestFiles.readAll(directory.path).records.last == [0x05, 0x06, 0x07])
    }

    @Test func openingStartsANewSegmentAfterTheLastOne() throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let first = try WAL(directory: directory.path)
        try first.log([0x01])
        #expect(try first.nextSegment() == 1)
        try first.log([0x02])
        try first.close()
        let second = try WAL(directory: directory.path)
        #expect(second.lastSegmentIndex == 2)
        try second.log([0x03])
        try second.sync()
        #expect(second.fsyncCount >= 1)
        #expect(second.bytesWritten == 8)
        try second.close()
        #expect(try WALTestFiles.readAll(directory.path).records == [[0x01], [0x02], [0x03]])
    }

    @Test func loggingAfterCloseThrows() throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let wal = try WAL(directory: directory.path)
        try wal.close()
        try wal.close()
        let error = #expect(throws: WALError.self) { try wal.log([0x01]) }
        #expect(error?.code == .closed)
    }

    @Test func segmentSizeMustBeAMultipleOfThePageSize() throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let error = #expect(throws: WALError.self) { _ = try WAL(directory: directory.path, segmentSizeBytes: 50_000) }
        #expect(error?.code == .invalidArgument)
    }

    @Test func recordLargerThanASegmentGetsASegmentOfItsOwn() throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let wal = try WAL(directory: directory.path, segmentSizeBytes: Self.page)
        let big = WALTestFiles.repetitiveRecord(9, count: 3 * Self.page)
        try wal.log([0x01])
        try wal.log(big)
        try wal.log([0x02])
        try wal.close()
        #expect(try WALSegment.list(in: directory.path).map(\.index) == [0, 1, 2])
        #expect(try WALTestFiles.readAll(directory.path).records == [[0x01], big, [0x02]])
    }
}
