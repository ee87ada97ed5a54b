#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A file descriptor with the few operations the WAL needs, each mapped to a ``WALError``.
///
/// Not copyable so that a descriptor is closed exactly once. Not thread-safe.
struct WALFile: ~Copyable {
    private(set) var descriptor: Int32
    let path: String

    private init(descriptor: Int32, path: String) {
        self.descriptor = descriptor
        self.path = path
    }

    deinit {
        if descriptor >= 0 { _ = systemClose(descriptor) }
    }

    /// Creates a new segment file for writing; fails if it exists (a segment is never reused).
    static func createNew(path: String) throws(WALError) -> WALFile {
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_APPEND, 0o666)
        guard fd >= 0 else { throw WALFileSystem.error("cannot create WAL segment \(path)") }
        return WALFile(descriptor: fd, path: path)
    }

    /// Opens an existing file for reading.
    static func openForReading(path: String) throws(WALError) -> WALFile {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw WALFileSystem.error("cannot open WAL segment \(path)") }
        return WALFile(descriptor: fd, path: path)
    }

    /// Opens an existing file for truncation (repair).
    static func openForWriting(path: String) throws(WALError) -> WALFile {
        let fd = open(path, O_WRONLY | O_CLOEXEC)
        guard fd >= 0 else { throw WALFileSystem.error("cannot open WAL segment \(path) for repair") }
        return WALFile(descriptor: fd, path: path)
    }

    /// Writes all of `bytes` (looping over short writes and EINTR).
    func writeAll(_ bytes: UnsafeRawBufferPointer) throws(WALError) {
        guard var pointer = bytes.baseAddress else { return }
        var left = bytes.count
        while left > 0 {
            let n = systemWrite(descriptor, pointer, left)
            if n < 0 {
                if errno == EINTR { continue }
                throw WALFileSystem.error("cannot write to WAL segment \(path)")
            }
            pointer += n
            left -= n
        }
    }

    /// Reads up to `buffer.count` bytes, looping until the buffer is full or the file ends.
    /// Returns how many bytes were read.
    func readFully(into buffer: UnsafeMutableRawBufferPointer) throws(WALError) -> Int {
        guard let base = buffer.baseAddress else { return 0 }
        var total = 0
        while total < buffer.count {
            let n = systemRead(descriptor, base + total, buffer.count - total)
            if n < 0 {
                if errno == EINTR { continue }
                throw WALFileSystem.error("cannot read WAL segment \(path)")
            }
            if n == 0 { break }
            total += n
        }
        return total
    }

    /// Flushes the file's data and metadata to stable storage.
    func sync() throws(WALError) {
        guard fsync(descriptor) == 0 else { throw WALFileSystem.error("cannot fsync WAL segment \(path)") }
    }

    /// Current size in bytes.
    func size() throws(WALError) -> Int {
        var info = stat()
        guard fstat(descriptor, &info) == 0 else { throw WALFileSystem.error("cannot stat WAL segment \(path)") }
        return Int(info.st_size)
    }

    /// Sets the size; bytes past the old end read as zeros.
    func truncate(to size: Int) throws(WALError) {
        guard ftruncate(descriptor, off_t(size)) == 0 else {
            throw WALFileSystem.error("cannot truncate WAL segment \(path) to \(size) bytes")
        }
    }

    /// A value that holds no descriptor (the state after ``close()``).
    static func none() -> WALFile {
        WALFile(descriptor: -1, path: "")
    }

    /// Whether a descriptor is held.
    var isOpen: Bool { descriptor >= 0 }

    /// Closes the descriptor (once), reporting a failed close, which can mean lost writes on NFS.
    mutating func close() throws(WALError) {
        guard descriptor >= 0 else { return }
        let fd = descriptor
        descriptor = -1
        guard systemClose(fd) == 0 else { throw WALFileSystem.error("cannot close WAL segment \(path)") }
    }
}

/// Directory operations of the WAL, on paths, with errors that name the path and `errno`.
enum WALFileSystem {
    static func error(_ message: String) -> WALError {
        let code = errno
        return WALError(code: .io, message: "\(message): \(String(cString: strerror(code)))", errno: code)
    }

    static func join(_ directory: String, _ name: String) -> String {
        directory.hasSuffix("/") ? directory + name : directory + "/" + name
    }

    /// Creates `path` and missing parents (mode 0777 before umask, as Prometheus).
    static func createDirectory(_ path: String) throws(WALError) {
        if isDirectory(path) { return }
        var parent = path
        while parent.hasSuffix("/") && parent.count > 1 { parent.removeLast() }
        if let slash = parent.lastIndex(of: "/"), slash != parent.startIndex {
            try createDirectory(String(parent[..<slash]))
        }
        guard mkdir(path, 0o777) == 0 || errno == EEXIST else {
            throw error("cannot create WAL directory \(path)")
        }
    }

    static func isDirectory(_ path: String) -> Bool {
        var info = stat()
        return stat(path, &info) == 0 && (info.st_mode & S_IFMT) == S_IFDIR
    }

    static func exists(_ path: String) -> Bool {
        var info = stat()
        return lstat(path, &info) == 0
    }

    /// Names in `directory` (without `.` and `..`), unsorted, with whether each is a directory.
    static func entries(of directory: String) throws(WALError) -> [(name: String, isDirectory: Bool)] {
        guard let handle = opendir(directory) else { throw error("cannot list WAL directory \(directory)") }
        defer { closedir(handle) }
        var result: [(name: String, isDirectory: Bool)] = []
        while let entry = readdir(handle) {
            let name = withUnsafePointer(to: &entry.pointee.d_name) { pointer in
                String(cString: UnsafeRawPointer(pointer).assumingMemoryBound(to: CChar.self))
            }
            if name == "." || name == ".." { continue }
            result.append((name, isDirectory(join(directory, name))))
        }
        return result
    }

    static func rename(_ from: String, _ to: String) throws(WALError) {
        guard systemRename(from, to) == 0 else { throw error("cannot rename \(from) to \(to)") }
    }

    static func removeFile(_ path: String) throws(WALError) {
        guard unlink(path) == 0 || errno == ENOENT else { throw error("cannot remove \(path)") }
    }

    /// Removes a file or a directory tree; a missing path is not an error.
    static func removeAll(_ path: String) throws(WALError) {
        guard exists(path) else { return }
        guard isDirectory(path) else { return try removeFile(path) }
        for entry in try entries(of: path) {
            try removeAll(join(path, entry.name))
        }
        guard rmdir(path) == 0 || errno == ENOENT else { throw error("cannot remove directory \(path)") }
    }

    /// Fsyncs a directory so that created, renamed and removed entries survive a power loss.
    static func syncDirectory(_ path: String) throws(WALError) {
        let fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { throw error("cannot open directory \(path) to fsync it") }
        defer { _ = systemClose(fd) }
        guard fsync(fd) == 0 else { throw error("cannot fsync directory \(path)") }
    }
}

// File-scope wrappers: inside the types above, `close`, `read`, `write` and `rename` name methods.
private func systemClose(_ descriptor: Int32) -> Int32 { close(descriptor) }
private func systemWrite(_ descriptor: Int32, _ bytes: UnsafeRawPointer, _ count: Int) -> Int { write(descriptor, bytes, count) }
private func systemRead(_ descriptor: Int32, _ bytes: UnsafeMutableRawPointer, _ count: Int) -> Int { read(descriptor, bytes, count) }
private func systemRename(_ from: String, _ to: String) -> Int32 { rename(from, to) }
