import OspreyEncoding
package import OspreyStorage

/// A block's `tombstones` file: magic `0x0130BA30`, version 1, then per deleted interval the
/// series reference (uvarint) and `mint`/`maxt` (varints, inclusive), then the CRC-32C of the
/// entries.
package enum Tombstones {
    static let magic: UInt32 = 0x0130_BA30
    static let fileName = "tombstones"

    /// A deleted interval of one series.
    package struct Interval: Hashable, Sendable {
        package var seriesRef: UInt64
        package var minTimeMs: Int64
        package var maxTimeMs: Int64
    }

    /// The file's bytes for `intervals`.
    package static func encode(_ intervals: [Interval]) -> [UInt8] {
        var entries: [UInt8] = []
        for interval in intervals {
            Varint.appendUVarint(interval.seriesRef, to: &entries)
            Varint.appendVarint(interval.minTimeMs, to: &entries)
            Varint.appendVarint(interval.maxTimeMs, to: &entries)
        }
        var out: [UInt8] = []
        out.appendUInt32BE(magic)
        out.append(1)
        out.append(contentsOf: entries)
        out.appendUInt32BE(CRC32C.checksum(entries))
        return out
    }

    /// The file's bytes for the deleted ranges of each series, by reference.
    package static func encode(_ deleted: [UInt64: DeletedIntervals]) -> [UInt8] {
        var intervals: [Interval] = []
        for reference in deleted.keys.sorted() {
            for range in deleted[reference]?.ranges ?? [] {
                intervals.append(Interval(seriesRef: reference, minTimeMs: range.lowerBound, maxTimeMs: range.upperBound))
            }
        }
        return encode(intervals)
    }

    /// The deleted ranges per series reference in a `tombstones` file's bytes; `path` names the
    /// file in errors.
    package static func decode(_ bytes: UnsafeRawBufferPointer, path: String) throws(BlockError) -> [UInt64: DeletedIntervals] {
        guard bytes.count >= 9 else { throw BlockError(.corrupt, "\(path): \(bytes.count) bytes, too short for a tombstones file") }
        guard IndexReader.bigEndian32(bytes, 0) == magic else { throw BlockError(.corrupt, "\(path): not a tombstones file (bad magic number)") }
        guard bytes[4] == 1 else { throw BlockError(.corrupt, "\(path): tombstones format version \(bytes[4]) is not 1") }
        let entries = UnsafeRawBufferPointer(rebasing: bytes[5..<(bytes.count - 4)])
        guard CRC32C.checksum(entries) == IndexReader.bigEndian32(bytes, bytes.count - 4) else {
            throw BlockError(.corrupt, "\(path): tombstones fail their checksum")
        }
        var reader = ByteReader(entries, baseOffset: 5)
        var deleted: [UInt64: DeletedIntervals] = [:]
        do {
            while !reader.isAtEnd {
                let reference = try reader.readUVarint()
                let low = try reader.readVarint()
                let high = try reader.readVarint()
                guard low <= high else { throw BlockError(.corrupt, "\(path): tombstone of series \(reference) ends before it starts") }
                deleted[reference, default: DeletedIntervals()].add(low...high)
            }
        } catch let error as BlockError {
            throw error
        } catch {
            throw BlockError(.corrupt, "\(path): \(error)")
        }
        return deleted
    }
}
