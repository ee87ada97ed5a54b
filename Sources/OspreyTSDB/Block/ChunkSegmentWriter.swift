#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import OspreyEncoding

/// Writes chunks into a block's `chunks/` segment files (`000001`, `000002`, …): an 8-byte
/// header (magic `0x85BD40DD`, version 1, 3 zero bytes), then chunks back to back as
/// `len<uvarint> encoding<1> data CRC-32C<4>` (the CRC over encoding and data). A chunk's
/// reference is its segment's 0-based position `<< 32 |` the offset of its `len`. Bytes go to
/// the file in batches of a few MiB, so a block's chunks never sit in memory at once.
package struct ChunkSegmentWriter: ~Copyable {
    static let magic: UInt32 = 0x85BD_40DD
    /// Prometheus' segment size limit.
    package static let defaultSegmentSizeBytes = 512 << 20
    /// The XOR (float) chunk encoding.
    package static let xorEncoding: UInt8 = 1
    private static let flushBytes = 4 << 20

    private let directory: String
    private let segmentSizeBytes: Int
    /// Segments started so far.
    package private(set) var segmentCount = 0
    private var descriptor: Int32 = -1
    private var segmentBytes = 0
    private var pending: [UInt8] = []

    /// A writer into `directory` (which must exist and be empty).
    package init(directory: String, segmentSizeBytes: Int = ChunkSegmentWriter.defaultSegmentSizeBytes) {
        self.directory = directory
        self.segmentSizeBytes = segmentSizeBytes
    }

    deinit {
        if descriptor >= 0 { _ = close(descriptor) }
    }

    /// Appends a chunk's data (for XOR: the bytes from the sample-count header on) and
    /// returns its reference.
    package mutating func append(_ data: [UInt8], encoding: UInt8 = ChunkSegmentWriter.xorEncoding) throws(BlockError) -> UInt64 {
        let size = Varint.uvarintSize(UInt64(data.count)) + 1 + data.count + 4
        if descriptor < 0 || (segmentBytes + size > segmentSizeBytes && segmentBytes > 8) {
            try cut()
        }
        let reference = UInt64(segmentCount - 1) << 32 | UInt64(segmentBytes)
        Varint.appendUVarint(UInt64(data.count), to: &pending)
        pending.append(encoding)
        pending.append(contentsOf: data)
        pending.appendUInt32BE(CRC32C.update(CRC32C.checksum([encoding]), data))
        segmentBytes += size
        if pending.count >= Self.flushBytes { try flush() }
        return reference
    }

    /// Writes and fsyncs what is pending and closes the last segment.
    package mutating func finish() throws(BlockError) {
        try finishSegment()
    }

    /// The file name of segment `index` (0-based): `000001` for the first.
    package static func fileName(_ index: Int) -> String {
        let digits = String(index + 1)
        return String(repeating: "0", count: max(0, 6 - digits.count)) + digits
    }

    private mutating func cut() throws(BlockError) {
        try finishSegment()
        let path = BlockFiles.join(directory, Self.fileName(segmentCount))
        descriptor = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o666)
        guard descriptor >= 0 else { throw .io("cannot create chunk segment \(path)") }
        segmentCount += 1
        pending.appendUInt32BE(Self.magic)
        pending.append(contentsOf: [1, 0, 0, 0])
        segmentBytes = 8
    }

    private mutating func finishSegment() throws(BlockError) {
        guard descriptor >= 0 else { return }
        try flush()
        let path = BlockFiles.join(directory, Self.fileName(segmentCount - 1))
        guard fsync(descriptor) == 0 else { throw .io("cannot fsync chunk segment \(path)") }
        _ = close(descriptor)
        descriptor = -1
    }

    private mutating func flush() throws(BlockError) {
        let path = BlockFiles.join(directory, Self.fileName(segmentCount - 1))
        try BlockFiles.writeAll(pending, to: descriptor, path: path)
        pending.removeAll(keepingCapacity: true)
    }
}
