import OspreyEncoding
package import OspreyModel

/// Builds a block's `index` file in the version-2 format of Prometheus' TSDB
/// (`docs/formats/block.md`): symbol table, 16-byte aligned series entries, postings lists
/// (the all-series list first), the postings offset table and the table of contents. Legacy
/// label-index sections are not written; their TOC entries point where Prometheus' own writer
/// points them (postings start, postings offset table).
package struct IndexWriter {
    /// A chunk as the index refers to it.
    package struct ChunkMeta: Hashable, Sendable {
        package var minTimeMs: Int64
        package var maxTimeMs: Int64
        /// `segment index << 32 | offset` in `chunks/`.
        package var ref: UInt64

        package init(minTimeMs: Int64, maxTimeMs: Int64, ref: UInt64) {
            self.minTimeMs = minTimeMs
            self.maxTimeMs = maxTimeMs
            self.ref = ref
        }
    }

    static let magic: UInt32 = 0xBAAA_D700
    static let version: UInt8 = 2

    /// The index of `series`, which must be sorted by labels, with each series' chunks in
    /// time order, not overlapping, and chunk references increasing across the whole list.
    package static func build(_ series: [(labels: Labels, chunks: [ChunkMeta])]) throws(BlockError) -> [UInt8] {
        var out: [UInt8] = []
        out.appendUInt32BE(magic)
        out.append(version)

        // Symbols: every name and value, sorted byte-wise, deduplicated.
        var symbolSet = Set<String>()
        for one in series {
            for label in one.labels.labels {
                symbolSet.insert(label.name)
                symbolSet.insert(label.value)
            }
        }
        let symbols = symbolSet.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
        var symbolIndex: [String: UInt32] = [:]
        symbolIndex.reserveCapacity(symbols.count)
        for (index, symbol) in symbols.enumerated() { symbolIndex[symbol] = UInt32(index) }
        let symbolsStart = UInt64(out.count)
        out.appendUInt32BE(0)  // length, patched below
        out.appendUInt32BE(UInt32(symbols.count))
        for symbol in symbols {
            Varint.appendUVarint(UInt64(symbol.utf8.count), to: &out)
            out.append(contentsOf: symbol.utf8)
        }
        try finishSection(&out, start: Int(symbolsStart), what: "symbol table")

        // Series, each at a 16-byte aligned offset; its reference is offset / 16.
        let seriesStart = UInt64(out.count)
        var references: [UInt32] = []
        references.reserveCapacity(series.count)
        var previous: Labels?
        var lastChunkRef: UInt64 = 0
        var entry: [UInt8] = []
        for one in series {
            if let previous, !(previous < one.labels) {
                throw BlockError(.invalidInput, "series \(one.labels.braced) is not after \(previous.braced): series must be sorted and unique")
            }
            previous = one.labels
            pad(&out, to: 16)
            guard out.count / 16 <= Int(UInt32.max) else { throw BlockError(.invalidInput, "index series section exceeds 64 GiB") }
            references.append(UInt32(out.count / 16))
            entry.removeAll(keepingCapacity: true)
            Varint.appendUVarint(UInt64(one.labels.count), to: &entry)
            for label in one.labels.labels {
                Varint.appendUVarint(UInt64(symbolIndex[label.name] ?? 0), to: &entry)
                Varint.appendUVarint(UInt64(symbolIndex[label.value] ?? 0), to: &entry)
            }
            Varint.appendUVarint(UInt64(one.chunks.count), to: &entry)
            var previousMax: Int64 = 0
            var previousRef: UInt64 = 0
            for (index, chunk) in one.chunks.enumerated() {
                guard chunk.maxTimeMs >= chunk.minTimeMs, chunk.ref >= lastChunkRef, index == 0 || chunk.minTimeMs > previousMax else {
                    throw BlockError(.invalidInput, "chunks of series \(one.labels.braced) are out of order or overlap")
                }
                if index == 0 {
                    Varint.appendVarint(chunk.minTimeMs, to: &entry)
                    Varint.appendUVarint(UInt64(chunk.maxTimeMs - chunk.minTimeMs), to: &entry)
                    Varint.appendUVarint(chunk.ref, to: &entry)
                } else {
                    Varint.appendUVarint(UInt64(chunk.minTimeMs - previousMax), to: &entry)
                    Varint.appendUVarint(UInt64(chunk.maxTimeMs - chunk.minTimeMs), to: &entry)
                    Varint.appendVarint(Int64(bitPattern: chunk.ref &- previousRef), to: &entry)
                }
                previousMax = chunk.maxTimeMs
                previousRef = chunk.ref
                lastChunkRef = chunk.ref
            }
            Varint.appendUVarint(UInt64(entry.count), to: &out)
            out.append(contentsOf: entry)
            out.appendUInt32BE(CRC32C.checksum(entry))
        }

        // Postings: the all-series list under ("", ""), then one list per label pair, sorted.
        let postingsStart = UInt64(out.count)
        var lists: [Label: [UInt32]] = [:]
        for (position, one) in series.enumerated() {
            for label in one.labels.labels { lists[label, default: []].append(references[position]) }
        }
        let pairs = lists.keys.sorted { a, b in
            a.name == b.name ? a.value.utf8.lexicographicallyPrecedes(b.value.utf8) : a.name.utf8.lexicographicallyPrecedes(b.name.utf8)
        }
        var offsets: [(label: Label, offset: UInt64)] = []
        offsets.reserveCapacity(pairs.count + 1)
        for (label, list) in [(Label(name: "", value: ""), references)] + pairs.map({ ($0, lists[$0] ?? []) }) {
            pad(&out, to: 4)
            offsets.append((label, UInt64(out.count)))
            var body: [UInt8] = []
            body.reserveCapacity(4 + 4 * list.count)
            body.appendUInt32BE(UInt32(list.count))
            for reference in list { body.appendUInt32BE(reference) }
            guard body.count <= Int(UInt32.max) else { throw BlockError(.invalidInput, "postings list of \(label.name)=\(label.value) exceeds 4 GiB") }
            out.appendUInt32BE(UInt32(body.count))
            out.append(contentsOf: body)
            out.appendUInt32BE(CRC32C.checksum(body))
        }

        // Postings offset table.
        let offsetTableStart = UInt64(out.count)
        out.appendUInt32BE(0)  // length, patched below
        out.appendUInt32BE(UInt32(offsets.count))
        for (label, offset) in offsets {
            Varint.appendUVarint(2, to: &out)
            Varint.appendUVarint(UInt64(label.name.utf8.count), to: &out)
            out.append(contentsOf: label.name.utf8)
            Varint.appendUVarint(UInt64(label.value.utf8.count), to: &out)
            out.append(contentsOf: label.value.utf8)
            Varint.appendUVarint(offset, to: &out)
        }
        try finishSection(&out, start: Int(offsetTableStart), what: "postings offset table")

        // Table of contents.
        var toc: [UInt8] = []
        for offset in [symbolsStart, seriesStart, postingsStart, offsetTableStart, postingsStart, offsetTableStart] {
            toc.appendUInt64BE(offset)
        }
        out.append(contentsOf: toc)
        out.appendUInt32BE(CRC32C.checksum(toc))
        return out
    }

    /// Patches the 4-byte length at `start` (the bytes after it) and appends their CRC.
    private static func finishSection(_ out: inout [UInt8], start: Int, what: String) throws(BlockError) {
        let length = out.count - start - 4
        guard length <= Int(UInt32.max) else { throw BlockError(.invalidInput, "index \(what) exceeds 4 GiB") }
        out[start] = UInt8(truncatingIfNeeded: length >> 24)
        out[start + 1] = UInt8(truncatingIfNeeded: length >> 16)
        out[start + 2] = UInt8(truncatingIfNeeded: length >> 8)
        out[start + 3] = UInt8(truncatingIfNeeded: length)
        out.appendUInt32BE(CRC32C.checksum(out[(start + 4)...]))
    }

    private static func pad(_ out: inout [UInt8], to alignment: Int) {
        let remainder = out.count % alignment
        if remainder != 0 { out.append(contentsOf: repeatElement(0, count: alignment - remainder)) }
    }
}
