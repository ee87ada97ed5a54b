import OspreyEncoding
import OspreyModel
import OspreyStorage

/// Reads a block's `index` (versions 2; see `docs/formats/block.md`) from a mapped file:
/// the symbol table and the postings offset table are loaded at open, series entries and
/// postings lists are decoded when asked for. Every section's CRC is checked when it is read.
final class IndexReader: Sendable {
    private let file: MappedFile
    /// Symbols by position.
    private let symbols: [String]
    /// Postings list offsets per label name, values sorted.
    private let postingsOffsets: [String: [(value: String, offset: Int)]]

    init(path: String) throws(BlockError) {
        let file = try BlockFiles.map(path)
        self.file = file
        let bytes = file.bytes
        guard bytes.count >= 5 + 52 else { throw BlockError(.corrupt, "\(path): index too short (\(bytes.count) bytes)") }
        var header = ByteReader(bytes)
        let magic = try Self.decoding(path) { () throws(EncodingError) in try header.readUInt32BE() }
        let version = try Self.decoding(path) { () throws(EncodingError) in try header.readUInt8() }
        guard magic == IndexWriter.magic else { throw BlockError(.corrupt, "\(path): not an index (magic \(magic))") }
        guard version == 2 else { throw BlockError(.corrupt, "\(path): index version \(version) is not supported (only 2)") }
        // TOC: six offsets and a CRC, the last 52 bytes.
        let tocBytes = UnsafeRawBufferPointer(rebasing: bytes[(bytes.count - 52)...])
        guard CRC32C.checksum(UnsafeRawBufferPointer(rebasing: tocBytes[0..<48])) == Self.bigEndian32(tocBytes, 48) else {
            throw BlockError(.corrupt, "\(path): index table of contents fails its checksum")
        }
        var toc = ByteReader(tocBytes)
        var offsets: [Int] = []
        for _ in 0..<6 { offsets.append(Int(try Self.decoding(path) { () throws(EncodingError) in try toc.readUInt64BE() })) }

        // Symbols.
        var symbolReader = try Self.section(bytes, at: offsets[0], path: path, what: "symbol table")
        let count = try Self.decoding(path) { () throws(EncodingError) in try symbolReader.readUInt32BE() }
        var symbols: [String] = []
        symbols.reserveCapacity(Int(count))
        for _ in 0..<count {
            let length = try Self.decoding(path) { () throws(EncodingError) in try symbolReader.readUVarint() }
            let raw = try Self.decoding(path) { () throws(EncodingError) in try symbolReader.readBytes(Int(length)) }
            symbols.append(String(decoding: raw, as: UTF8.self))
        }
        self.symbols = symbols

        // Postings offset table.
        var table = try Self.section(bytes, at: offsets[5], path: path, what: "postings offset table")
        let entries = try Self.decoding(path) { () throws(EncodingError) in try table.readUInt32BE() }
        var postingsOffsets: [String: [(value: String, offset: Int)]] = [:]
        for _ in 0..<entries {
            let keys = try Self.decoding(path) { () throws(EncodingError) in try table.readUVarint() }
            guard keys == 2 else { throw BlockError(.corrupt, "\(path): postings offset entry with \(keys) keys") }
            let nameLength = try Self.decoding(path) { () throws(EncodingError) in try table.readUVarint() }
            let name = String(decoding: try Self.decoding(path) { () throws(EncodingError) in try table.readBytes(Int(nameLength)) }, as: UTF8.self)
            let valueLength = try Self.decoding(path) { () throws(EncodingError) in try table.readUVarint() }
            let value = String(decoding: try Self.decoding(path) { () throws(EncodingError) in try table.readBytes(Int(valueLength)) }, as: UTF8.self)
            let offset = try Self.decoding(path) { () throws(EncodingError) in try table.readUVarint() }
            postingsOffsets[name, default: []].append((value, Int(offset)))
        }
        self.postingsOffsets = postingsOffsets
    }

    /// Sorted label names (without the all-series key).
    var labelNames: [String] {
        postingsOffsets.keys.filter { !$0.isEmpty }.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
    }

    /// Sorted values of label `name`.
    func labelValues(_ name: String) -> [String] {
        (postingsOffsets[name] ?? []).map(\.value)
    }

    /// Every label pair with the number of series carrying it (the all-series list under
    /// `("", "")` first), read from the postings lists' counts.
    func postingsCounts() throws(BlockError) -> [(name: String, value: String, count: Int)] {
        var out: [(name: String, value: String, count: Int)] = []
        for name in postingsOffsets.keys.sorted(by: { $0.utf8.lexicographicallyPrecedes($1.utf8) }) {
            for entry in postingsOffsets[name] ?? [] {
                let offset = entry.offset
                guard offset + 8 <= file.bytes.count else { throw BlockError(.corrupt, "\(file.path): postings list at \(offset) outside the index") }
                out.append((name, entry.value, Int(Self.bigEndian32(file.bytes, offset + 4))))
            }
        }
        return out
    }

    /// Series references (ascending) matching all `matchers`, with Prometheus' semantics: a
    /// matcher that matches "" also selects series without the label.
    func postings(matching matchers: [LabelMatcher]) throws(BlockError) -> [UInt64] {
        var positive: [[UInt64]] = []
        var negative: [[UInt64]] = []
        for matcher in matchers {
            let values = postingsOffsets[matcher.name] ?? []
            if matcher.matchesEmpty {
                negative.append(try union(values.filter { !matcher.matches($0.value) }))
            } else if matcher.type == .equal {
                positive.append(try union(values.filter { $0.value == matcher.value }))
            } else {
                positive.append(try union(values.filter { matcher.matches($0.value) }))
            }
        }
        var result = positive.isEmpty ? try union(postingsOffsets[""] ?? []) : positive.sorted { $0.count < $1.count }.reduce(nil as [UInt64]?) { acc, list in
            acc.map { intersect($0, list) } ?? list
        } ?? []
        for list in negative where !list.isEmpty && !result.isEmpty {
            result = subtract(result, list)
        }
        return result
    }

    /// A series entry: its labels and chunk metas.
    func series(_ reference: UInt64) throws(BlockError) -> (labels: Labels, chunks: [IndexWriter.ChunkMeta]) {
        let bytes = file.bytes
        let start = Int(reference) * 16
        guard start < bytes.count else { throw BlockError(.corrupt, "\(file.path): series reference \(reference) beyond the index") }
        var reader = ByteReader(UnsafeRawBufferPointer(rebasing: bytes[start...]), baseOffset: start)
        let path = file.path
        let length = Int(try Self.decoding(path) { () throws(EncodingError) in try reader.readUVarint() })
        let bodyStart = start + reader.offset
        guard bodyStart + length + 4 <= bytes.count else { throw BlockError(.corrupt, "\(path): series entry at \(start) runs past the end") }
        let body = UnsafeRawBufferPointer(rebasing: bytes[bodyStart..<(bodyStart + length)])
        guard CRC32C.checksum(body) == Self.bigEndian32(bytes, bodyStart + length) else {
            throw BlockError(.corrupt, "\(path): series entry at \(start) fails its checksum")
        }
        var entry = ByteReader(body, baseOffset: bodyStart)
        let labelCount = try Self.decoding(path) { () throws(EncodingError) in try entry.readUVarint() }
        var labels: [Label] = []
        labels.reserveCapacity(Int(labelCount))
        for _ in 0..<labelCount {
            let name = Int(try Self.decoding(path) { () throws(EncodingError) in try entry.readUVarint() })
            let value = Int(try Self.decoding(path) { () throws(EncodingError) in try entry.readUVarint() })
            guard name < symbols.count, value < symbols.count else { throw BlockError(.corrupt, "\(path): series entry at \(start) refers to a missing symbol") }
            labels.append(Label(name: symbols[name], value: symbols[value]))
        }
        let chunkCount = try Self.decoding(path) { () throws(EncodingError) in try entry.readUVarint() }
        var chunks: [IndexWriter.ChunkMeta] = []
        chunks.reserveCapacity(Int(chunkCount))
        var maxTime: Int64 = 0
        var ref: UInt64 = 0
        for index in 0..<chunkCount {
            if index == 0 {
                let minTime = try Self.decoding(path) { () throws(EncodingError) in try entry.readVarint() }
                maxTime = minTime &+ Int64(bitPattern: try Self.decoding(path) { () throws(EncodingError) in try entry.readUVarint() })
                ref = try Self.decoding(path) { () throws(EncodingError) in try entry.readUVarint() }
                chunks.append(IndexWriter.ChunkMeta(minTimeMs: minTime, maxTimeMs: maxTime, ref: ref))
            } else {
                let minTime = maxTime &+ Int64(bitPattern: try Self.decoding(path) { () throws(EncodingError) in try entry.readUVarint() })
                maxTime = minTime &+ Int64(bitPattern: try Self.decoding(path) { () throws(EncodingError) in try entry.readUVarint() })
                ref = UInt64(bitPattern: Int64(bitPattern: ref) &+ (try Self.decoding(path) { () throws(EncodingError) in try entry.readVarint() }))
                chunks.append(IndexWriter.ChunkMeta(minTimeMs: minTime, maxTimeMs: maxTime, ref: ref))
            }
        }
        return (Labels(sortedUnchecked: labels), chunks)
    }

    /// The union of the postings lists at `entries`.
    private func union(_ entries: [(value: String, offset: Int)]) throws(BlockError) -> [UInt64] {
        var lists: [[UInt64]] = []
        for entry in entries { lists.append(try postingsList(at: entry.offset)) }
        return mergeAll(lists)
    }

    private func postingsList(at offset: Int) throws(BlockError) -> [UInt64] {
        var reader = try Self.section(file.bytes, at: offset, path: file.path, what: "postings list")
        let path = file.path
        let count = try Self.decoding(path) { () throws(EncodingError) in try reader.readUInt32BE() }
        var list: [UInt64] = []
        list.reserveCapacity(Int(count))
        for _ in 0..<count { list.append(UInt64(try Self.decoding(path) { () throws(EncodingError) in try reader.readUInt32BE() })) }
        return list
    }

    /// A reader over the `len`-prefixed section at `offset` (after its length), its CRC checked.
    private static func section(_ bytes: UnsafeRawBufferPointer, at offset: Int, path: String, what: String) throws(BlockError) -> ByteReader {
        guard offset > 0, offset + 4 <= bytes.count else { throw BlockError(.corrupt, "\(path): \(what) offset \(offset) outside the index") }
        let length = Int(bigEndian32(bytes, offset))
        guard offset + 4 + length + 4 <= bytes.count else { throw BlockError(.corrupt, "\(path): \(what) at \(offset) runs past the end of the index") }
        let body = UnsafeRawBufferPointer(rebasing: bytes[(offset + 4)..<(offset + 4 + length)])
        guard CRC32C.checksum(body) == bigEndian32(bytes, offset + 4 + length) else {
            throw BlockError(.corrupt, "\(path): \(what) at \(offset) fails its checksum")
        }
        return ByteReader(body, baseOffset: offset + 4)
    }

    static func bigEndian32(_ bytes: UnsafeRawBufferPointer, _ offset: Int) -> UInt32 {
        UInt32(bytes[offset]) << 24 | UInt32(bytes[offset + 1]) << 16 | UInt32(bytes[offset + 2]) << 8 | UInt32(bytes[offset + 3])
    }

    private static func decoding<T>(_ path: String, _ body: () throws(EncodingError) -> T) throws(BlockError) -> T {
        do {
            return try body()
        } catch {
            throw BlockError(.corrupt, "\(path): \(error)")
        }
    }
}

extension IndexReader {
    /// Drops the index file's pages from the process (see ``MappedFile/releaseResidentPages()``).
    func releaseResidentPages() {
        file.releaseResidentPages()
    }
}
