import Testing

@testable import OspreyTSDB

struct WALSegmentTests {
    @Test func listingIgnoresOtherNamesAndSortsByIndex() throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        for name in ["00000002", "00000001", "00000003", "notes.txt", "00000003.repair"] {
            WALTestFiles.write(directory.child(name), [])
        }
        try WALFileSystem.createDirectory(directory.child("checkpoint.00000000"))
        #expect(try WALSegment.list(in: directory.path).map(\.index) == [1, 2, 3])
    }

    @Test func listingRejectsAGap() throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        for name in ["00000000", "00000002"] { WALTestFiles.write(directory.child(name), []) }
        let error = #expect(throws: WALError.self) { _ = try WALSegment.list(in: directory.path) }
        #expect(error?.code == .invalidLayout)
    }

    @Test func fileNamesAreEightDigitsZeroPadded() {
        #expect(WALSegment.fileName(index: 0) == "00000000")
        #expect(WALSegment.fileName(index: 1234) == "00001234")
        #expect(WALSegment.fileName(index: 123_456_789) == "123456789")
    }
}
