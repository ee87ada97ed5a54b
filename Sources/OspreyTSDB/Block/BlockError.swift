import OspreyStorage
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The error of block writing and reading: a system call that failed, or input that breaks
/// the block format's rules (the message says which).
package struct BlockError: Error, Hashable, CustomStringConvertible, Sendable {
    /// What kind of problem.
    package enum Code: Hashable, Sendable {
        /// A system call failed; the message names the file and `errno`.
        case io
        /// The data cannot be written as a block (unsorted series, overlapping chunks, a
        /// section beyond the format's 4-byte limits).
        case invalidInput
        /// A block on disk is damaged or not a block.
        case corrupt
    }

    package var code: Code
    package var message: String

    package init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    package var description: String { message }

    /// An `.io` error for the failed call described by `message`, with `errno`'s text.
    static func io(_ message: String) -> BlockError {
        BlockError(.io, "\(message): \(String(cString: strerror(errno)))")
    }
}

/// The file operations of block writing, on paths.
enum BlockFiles {
    /// Maps a block file, its failures as block errors.
    static func map(_ path: String) throws(BlockError) -> MappedFile {
        do {
            return try MappedFile(path: path)
        } catch {
            throw .io(error.message)
        }
    }

    static func join(_ directory: String, _ name: String) -> String {
        directory.hasSuffix("/") ? directory + name : directory + "/" + name
    }

    /// Creates a directory (its parent must exist).
    static func createDirectory(_ path: String) throws(BlockError) {
        guard mkdir(path, 0o777) == 0 || errno == EEXIST else { throw .io("cannot create directory \(path)") }
    }

    /// Writes `bytes` to a new file at `path` and fsyncs it.
    static func write(_ bytes: [UInt8], to path: String) throws(BlockError) {
        let descriptor = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o666)
        guard descriptor >= 0 else { throw .io("cannot create \(path)") }
        defer { _ = close(descriptor) }
        try writeAll(bytes, to: descriptor, path: path)
        guard fsync(descriptor) == 0 else { throw .io("cannot fsync \(path)") }
    }

    /// Writes all of `bytes` to an open file (looping over short writes and EINTR).
    static func writeAll(_ bytes: [UInt8], to descriptor: Int32, path: String) throws(BlockError) {
        let complete = bytes.withUnsafeBytes { raw -> Bool in
            guard var pointer = raw.baseAddress else { return true }
            var left = raw.count
            while left > 0 {
                let written = systemWrite(descriptor, pointer, left)
                if written < 0 {
                    if errno == EINTR { continue }
                    return false
                }
                pointer += written
                left -= written
            }
            return true
        }
        guard complete else { throw .io("cannot write \(path)") }
    }

    /// Fsyncs a directory so that its new entries survive a power loss.
    static func syncDirectory(_ path: String) throws(BlockError) {
        let descriptor = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard descriptor >= 0 else { throw .io("cannot open directory \(path) to fsync it") }
        defer { _ = close(descriptor) }
        guard fsync(descriptor) == 0 else { throw .io("cannot fsync directory \(path)") }
    }

    /// Recreates the directory tree `source` at `destination` with every regular file
    /// hard-linked (a snapshot of an immutable block costs no data).
    static func hardLinkTree(_ source: String, _ destination: String) throws(BlockError) {
        try createDirectory(destination)
        guard let directory = opendir(source) else { throw .io("cannot read directory \(source)") }
        defer { closedir(directory) }
        while let entry = readdir(directory) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
            }
            guard name != ".", name != ".." else { continue }
            let from = join(source, name)
            let to = join(destination, name)
            var info = stat()
            guard lstat(from, &info) == 0 else { throw .io("cannot stat \(from)") }
            if (info.st_mode & S_IFMT) == S_IFDIR {
                try hardLinkTree(from, to)
            } else {
                guard link(from, to) == 0 else { throw .io("cannot hard-link \(from) to \(to)") }
            }
        }
        try syncDirectory(destination)
    }

    static func rename(_ from: String, _ to: String) throws(BlockError) {
        guard systemRename(from, to) == 0 else { throw .io("cannot rename \(from) to \(to)") }
    }
}

private func systemWrite(_ descriptor: Int32, _ bytes: UnsafeRawPointer, _ count: Int) -> Int { write(descriptor, bytes, count) }
private func systemRename(_ from: String, _ to: String) -> Int32 { rename(from, to) }
