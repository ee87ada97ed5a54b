/// One segment file of a WAL directory: `DIR/00000000`, `DIR/00000001`, …
package struct WALSegment: Hashable, Sendable {
    /// The segment number.
    package var index: Int
    /// The file's path.
    package var path: String

    /// Creates a reference to a segment file.
    package init(index: Int, path: String) {
        self.index = index
        self.path = path
    }

    /// Size of a page, the unit segments are written in (Prometheus' `pageSize`).
    package static let pageSizeBytes = 32 * 1024
    /// Size of a fragment header: `type<1> len<2 BE> crc<4 BE>` (`recordHeaderSize`).
    package static let fragmentHeaderSizeBytes = 7
    /// Default maximum segment size (`DefaultSegmentSize`).
    package static let defaultSizeBytes = 128 << 20

    /// The file name of segment `index`: eight digits, zero padded (`%08d`).
    package static func fileName(index: Int) -> String {
        let digits = String(index)
        return digits.count >= 8 ? digits : String(repeating: "0", count: 8 - digits.count) + digits
    }

    /// The segments in `directory`, sorted by index. Names that are not all digits (checkpoint
    /// directories, `*.tmp`, `*.repair`) are ignored, as Prometheus' `listSegments`.
    ///
    /// Throws `.invalidLayout` when the numbers are not consecutive (Prometheus refuses to open
    /// such a directory too), `.io` when the directory cannot be listed.
    package static func list(in directory: String) throws(WALError) -> [WALSegment] {
        var segments: [WALSegment] = []
        for entry in try WALFileSystem.entries(of: directory) where !entry.isDirectory {
            guard let index = parseIndex(entry.name) else { continue }
            segments.append(WALSegment(index: index, path: WALFileSystem.join(directory, entry.name)))
        }
        segments.sort { $0.index < $1.index }
        for (previous, next) in zip(segments, segments.dropFirst()) where previous.index + 1 != next.index {
            throw WALError(
                code: .invalidLayout,
                message: "WAL segments in \(directory) are not consecutive: \(previous.index) is followed by \(next.index); "
                    + "move the segments after the gap away to open the WAL")
        }
        return segments
    }

    /// The number a decimal file name stands for (Go's `strconv.Atoi` on digits only).
    static func parseIndex(_ name: String) -> Int? {
        guard !name.isEmpty, name.utf8.count <= 18, name.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) else { return nil }
        return Int(name)
    }
}
