import Glibc
import OspreyModel
@testable import OspreyTSDB

/// A unique directory under /tmp, removed by `remove()` (call it in a `defer`).
struct TemporaryDirectory {
    let path: String

    init(_ name: String = #function) {
        var template = Array("/tmp/osprey-wal-test-XXXXXX".utf8CString)
        let created = template.withUnsafeMutableBufferPointer { buffer in mkdtemp(buffer.baseAddress!) }
        precondition(created != nil, "mkdtemp failed")  // Test setup only.
        path = template.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
    }

    func child(_ name: String) -> String { path + "/" + name }

    func remove() {
        try? WALFileSystem.removeAll(path)
    }
}

/// Deterministic generator (SplitMix64) so failures reproduce.
struct SeededGenerator: RandomNumberGenerator {
    var state: UInt64

    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

enum WALTestFiles {
    static func read(_ path: String) -> [UInt8] {
        guard let file = fopen(path, "rb") else { return [] }
        defer { fclose(file) }
        var bytes: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = fread(&buffer, 1, buffer.count, file)
            if n <= 0 { break }
            bytes.append(contentsOf: buffer[0..<n])
        }
        return bytes
    }

    static func write(_ path: String, _ bytes: [UInt8]) {
        guard let file = fopen(path, "wb") else { return }
        _ = bytes.withUnsafeBytes { fwrite($0.baseAddress, 1, $0.count, file) }
        fclose(file)
    }

    static func size(_ path: String) -> Int {
        var info = stat()
        return stat(path, &info) == 0 ? Int(info.st_size) : -1
    }

    /// All records of a WAL or checkpoint directory, and the corruption the reader reported.
    static func readAll(_ directory: String) throws -> (records: [[UInt8]], corruption: WALCorruption?) {
        let reader = try WALReader(directory: directory)
        var records: [[UInt8]] = []
        while try reader.next() { records.append(reader.record) }
        return (records, reader.corruption)
    }

    /// A record of `count` pseudo-random bytes whose first byte marks it.
    static func randomRecord(_ marker: UInt8, count: Int, using generator: inout SeededGenerator) -> [UInt8] {
        var record = [UInt8](repeating: 0, count: count)
        for index in record.indices { record[index] = UInt8.random(in: 0...255, using: &generator) }
        if count > 0 { record[0] = marker }
        return record
    }

    /// A record that Snappy compresses to about half: random 8-byte blocks, each repeated.
    static func halfCompressibleRecord(_ marker: UInt8, count: Int, using generator: inout SeededGenerator) -> [UInt8] {
        var record: [UInt8] = []
        record.reserveCapacity(count + 16)
        while record.count < count {
            let block = (0..<8).map { _ in UInt8.random(in: 0...255, using: &generator) }
            record += block + block
        }
        record.removeLast(record.count - count)
        if count > 0 { record[0] = marker }
        return record
    }

    /// A record that Snappy compresses well.
    static func repetitiveRecord(_ marker: UInt8, count: Int) -> [UInt8] {
        var record = [UInt8](repeating: 0, count: count)
        for index in record.indices { record[index] = UInt8(truncatingIfNeeded: index % 7) }
        if count > 0 { record[0] = marker }
        return record
    }
}
