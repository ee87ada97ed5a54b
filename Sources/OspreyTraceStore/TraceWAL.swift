import Glibc
package import OspreyEncoding
package import OspreyStorage

/// The trace store's write-ahead log (docs/formats/traces.md): numbered segment files of
/// records, each `u32 length`, `u32 CRC-32C`, payload. Not thread-safe; the store serialises
/// writers.
package final class TraceWAL {
    /// Where the segments are.
    package let directory: String
    /// Largest segment before the next one starts.
    package let segmentSizeBytes: Int
    /// Whether each append is fsynced before it returns.
    package let syncEveryWrite: Bool
    /// The segment being written.
    package private(set) var currentSegment: Int
    private var descriptor: Int32 = -1
    private var segmentBytes = 0
    private var frame: [UInt8] = []

    /// Opens the WAL in `directory` (created if missing); writes go to a new segment after the
    /// existing ones.
    package init(directory: String, segmentSizeBytes: Int = 128 << 20, syncEveryWrite: Bool = false) throws(StorageError) {
        self.directory = directory
        self.segmentSizeBytes = segmentSizeBytes
        self.syncEveryWrite = syncEveryWrite
        try Self.makeDirectory(directory)
        currentSegment = (try Self.segments(in: directory).last ?? 0) + 1
        try open(segment: currentSegment)
    }

    deinit {
        if descriptor >= 0 { Glibc.close(descriptor) }
    }

    /// Appends one record. Throws `.io` when the write fails (the segment is then truncated
    /// back to where it was, so a failed record is never half there).
    package func append(_ payload: [UInt8]) throws(StorageError) {
        if segmentBytes > 0 && segmentBytes + payload.count + 8 > segmentSizeBytes { _ = try cut() }
        frame.removeAll(keepingCapacity: true)
        withUnsafeBytes(of: UInt32(payload.count).littleEndian) { frame.append(contentsOf: $0) }
        withUnsafeBytes(of: CRC32C.checksum(payload).littleEndian) { frame.append(contentsOf: $0) }
        frame.append(contentsOf: payload)
        let written = frame.withUnsafeBytes { Self.writeAll(descriptor, $0) }
        guard written else {
            let error = errno
            _ = ftruncate(descriptor, off_t(segmentBytes))
            _ = lseek(descriptor, off_t(segmentBytes), SEEK_SET)
            throw StorageError(code: .io, message: "writing the trace WAL segment \(path(currentSegment)) failed: \(String(cString: strerror(error)))")
        }
        segmentBytes += frame.count
        if syncEveryWrite { try sync() }
    }

    /// Makes everything appended durable.
    package func sync() throws(StorageError) {
        guard fsync(descriptor) == 0 else {
            throw StorageError(code: .io, message: "fsync of \(path(currentSegment)) failed: \(String(cString: strerror(errno)))")
        }
    }

    /// Closes the current segment (fsynced) and starts the next; returns the closed one's number.
    @discardableResult
    package func cut() throws(StorageError) -> Int {
        try sync()
        Glibc.close(descriptor)
        descriptor = -1
        let closed = currentSegment
        currentSegment += 1
        try open(segment: currentSegment)
        return closed
    }

    /// Deletes the segments numbered up to `last`.
    package func removeSegments(through last: Int) throws(StorageError) {
        for segment in try Self.segments(in: directory) where segment <= last && segment != currentSegment {
            unlink(path(segment))
        }
    }

    /// Closes the WAL (fsynced).
    package func close() {
        guard descriptor >= 0 else { return }
        _ = fsync(descriptor)
        Glibc.close(descriptor)
        descriptor = -1
    }

    // MARK: - Reading

    /// What replaying found.
    package struct ReplayReport: Sendable {
        /// Records read.
        package var records = 0
        /// Problems (a torn tail truncated, a corrupt record), for the log.
        package var problems: [String] = []
    }

    /// Reads every record of the segments numbered after `after`, oldest first. A torn record at
    /// the end of the last segment is cut off; a corrupt record elsewhere ends that segment's
    /// replay (reported).
    package static func replay(directory: String, after: Int = 0, _ body: (UnsafeRawBufferPointer) throws -> Void) throws -> ReplayReport {
        var report = ReplayReport()
        let all = try segments(in: directory).filter { $0 > after }
        for (position, segment) in all.enumerated() {
            let path = directory + "/" + name(segment)
            let bytes = try readFile(path)
            var offset = 0
            while offset < bytes.count {
                let valid = bytes.withUnsafeBytes { buffer -> (Int, Bool) in
                    guard buffer.count - offset >= 8 else { return (0, false) }
                    let length = Int(UInt32(littleEndian: buffer.loadUnaligned(fromByteOffset: offset, as: UInt32.self)))
                    let crc = UInt32(littleEndian: buffer.loadUnaligned(fromByteOffset: offset + 4, as: UInt32.self))
                    guard length <= buffer.count - offset - 8 else { return (0, false) }
                    let payload = UnsafeRawBufferPointer(rebasing: buffer[(offset + 8)..<(offset + 8 + length)])
                    return (length, CRC32C.checksum(payload) == crc)
                }
                guard valid.1 else {
                    if position == all.count - 1 {
                        report.problems.append("truncated a torn record at byte \(offset) of \(path)")
                        truncate(path, off_t(offset))
                    } else {
                        report.problems.append("corrupt record at byte \(offset) of \(path); the rest of that segment is skipped")
                    }
                    break
                }
                try bytes.withUnsafeBytes { buffer in
                    try body(UnsafeRawBufferPointer(rebasing: buffer[(offset + 8)..<(offset + 8 + valid.0)]))
                }
                report.records += 1
                offset += 8 + valid.0
            }
        }
        return report
    }

    /// The segment numbers in `directory`, ascending.
    package static func segments(in directory: String) throws(StorageError) -> [Int] {
        guard let handle = opendir(directory) else {
            if errno == ENOENT { return [] }
            throw StorageError(code: .io, message: "cannot list \(directory): \(String(cString: strerror(errno)))")
        }
        defer { closedir(handle) }
        var numbers: [Int] = []
        while let entry = readdir(handle) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
            }
            if name.count == 8, name.allSatisfy(\.isNumber), let number = Int(name) { numbers.append(number) }
        }
        return numbers.sorted()
    }

    // MARK: - Files

    static func name(_ segment: Int) -> String {
        let digits = String(segment)
        return String(repeating: "0", count: max(0, 8 - digits.count)) + digits
    }

    private func path(_ segment: Int) -> String { directory + "/" + Self.name(segment) }

    private func open(segment: Int) throws(StorageError) {
        let fd = Glibc.open(path(segment), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o644)
        guard fd >= 0 else {
            throw StorageError(code: .io, message: "cannot open \(path(segment)): \(String(cString: strerror(errno)))")
        }
        descriptor = fd
        segmentBytes = Int(lseek(fd, 0, SEEK_END))
        Self.syncDirectory(directory)
    }

    static func makeDirectory(_ path: String) throws(StorageError) {
        var current = path.hasPrefix("/") ? "/" : ""
        for component in path.split(separator: "/") {
            current += (current.isEmpty || current.hasSuffix("/") ? "" : "/") + component
            if mkdir(current, 0o755) != 0 && errno != EEXIST {
                throw StorageError(code: .io, message: "cannot create \(current): \(String(cString: strerror(errno)))")
            }
        }
    }

    static func syncDirectory(_ path: String) {
        let fd = Glibc.open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { return }
        _ = fsync(fd)
        Glibc.close(fd)
    }

    static func writeAll(_ fd: Int32, _ bytes: UnsafeRawBufferPointer) -> Bool {
        var offset = 0
        while offset < bytes.count {
            let written = Glibc.write(fd, bytes.baseAddress.map { $0 + offset }, bytes.count - offset)
            if written < 0 {
                if errno == EINTR { continue }
                return false
            }
            offset += written
        }
        return true
    }

    static func readFile(_ path: String) throws(StorageError) -> [UInt8] {
        let fd = Glibc.open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw StorageError(code: .io, message: "cannot open \(path): \(String(cString: strerror(errno)))") }
        defer { Glibc.close(fd) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 1 << 20)
        while true {
            let count = chunk.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
            if count < 0 {
                if errno == EINTR { continue }
                throw StorageError(code: .io, message: "cannot read \(path): \(String(cString: strerror(errno)))")
            }
            if count == 0 { break }
            bytes.append(contentsOf: chunk[0..<count])
        }
        return bytes
    }
}
