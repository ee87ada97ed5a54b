/// The error thrown by the write-ahead log: opening, writing, syncing, listing, repairing and
/// checkpointing. Corruption found while *reading* is not thrown but reported as a
/// ``WALCorruption`` value, so replay can stop cleanly and repair the tail.
package struct WALError: Error, Hashable, CustomStringConvertible, Sendable {
    /// What kind of problem.
    package enum Code: Hashable, Sendable {
        /// A system call failed (open, write, fsync, rename, …); the message names it and `errno`.
        case io
        /// An argument is out of range, e.g. a segment size that is not a multiple of 32 KiB.
        case invalidArgument
        /// The directory is not a valid WAL: non-consecutive segments, a checkpoint that is a file.
        case invalidLayout
        /// Data cannot be used and cannot be repaired in place (e.g. corruption in a checkpoint).
        case corrupt
        /// The WAL was closed; open a new one.
        case closed
        /// Valid data in a variant this engine does not read, e.g. zstd-compressed records
        /// (Prometheus 3 with `--storage.tsdb.wal-compression-type=zstd`). Never repaired away.
        case unsupportedFormat
    }

    /// The kind of problem.
    package var code: Code
    /// What went wrong and, where possible, how to fix it.
    package var message: String
    /// The `errno` of the failed system call, for `.io`.
    package var errno: Int32?

    /// Creates an error.
    package init(code: Code, message: String, errno: Int32? = nil) {
        self.code = code
        self.message = message
        self.errno = errno
    }

    package var description: String {
        if let errno { return "\(message) (errno \(errno))" }
        return message
    }
}

/// Where and why a WAL could not be read further: a checksum mismatch, a record cut short by a
/// crash, page padding that is not zero, an invalid fragment sequence, or a record that does not
/// decode. Everything before `offset` in the segment (and in earlier segments) was read intact.
package struct WALCorruption: Hashable, Sendable, CustomStringConvertible {
    /// The directory holding the segment: the WAL directory or a checkpoint directory.
    package var directory: String
    /// The segment's index.
    package var segmentIndex: Int
    /// Byte offset in the segment where the first incomplete or damaged record starts; every
    /// record ending at or before it is intact.
    package var offset: Int
    /// What was found, for logs.
    package var reason: String

    /// Creates a corruption report.
    package init(directory: String, segmentIndex: Int, offset: Int, reason: String) {
        self.directory = directory
        self.segmentIndex = segmentIndex
        self.offset = offset
        self.reason = reason
    }

    package var description: String {
        "WAL segment \(WALSegment.fileName(index: segmentIndex)) in \(directory) is corrupt at byte \(offset): \(reason)"
    }
}

/// `Array.withUnsafeBytes` with a typed error (the standard library's version is untyped).
func withBytes<Result, Failure: Error>(
    of array: [UInt8], _ body: (UnsafeRawBufferPointer) throws(Failure) -> Result
) throws(Failure) -> Result {
    let outcome: Swift.Result<Result, Failure> = array.withUnsafeBytes { bytes in
        do throws(Failure) {
            return .success(try body(bytes))
        } catch {
            return .failure(error)
        }
    }
    return try outcome.get()
}
