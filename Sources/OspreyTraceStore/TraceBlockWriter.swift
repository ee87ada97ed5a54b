import Foundation
import OspreyEncoding
package import OspreyModel
package import OspreyStorage

/// The `meta.json` of a trace block.
package struct TraceBlockMeta: Codable, Hashable, Sendable {
    package var version: Int
    package var ulid: String
    package var minStartNanos: String
    package var maxEndNanos: String
    package var spans: Int
    package var traces: Int
    package var walSegmentsThrough: Int
    package var spansBytes: Int
    package var indexBytes: Int

    package var minStart: UInt64 { UInt64(minStartNanos) ?? 0 }
    package var maxEnd: UInt64 { UInt64(maxEndNanos) ?? 0 }
}

/// A posting key of a block index (docs/formats/traces.md, index section 5).
package enum TracePostingKey: Hashable, Sendable {
    case service(String)
    case operation(service: String, name: String, kind: SpanKind)
    case attribute(service: String, key: String, value: String)
}

/// Writes a head's traces as a block.
package enum TraceBlockWriter {
    static let pageTargetBytes = 64 << 10
    static let magic = Array("OSPRTIX1".utf8)

    /// Writes the block `ulid` under `blocksDirectory` (through a `.tmp` directory and a rename).
    @discardableResult
    package static func write(
        traces: [TraceID: [SpanRecord]], blocksDirectory: String, ulid: String, walSegmentsThrough: Int, indexedKeys: Set<String>
    ) throws(StorageError) -> TraceBlockMeta {
        try write(traceIDs: Array(traces.keys), spans: { traces[$0] ?? [] }, blocksDirectory: blocksDirectory, ulid: ulid,
                  walSegmentsThrough: walSegmentsThrough, indexedKeys: indexedKeys)
    }

    /// Writes the block from trace IDs and a function giving each trace's spans, called once per
    /// trace in ID order (so a head can decode one trace at a time).
    @discardableResult
    package static func write(
        traceIDs: [TraceID], spans spansOf: (TraceID) -> [SpanRecord], blocksDirectory: String, ulid: String,
        walSegmentsThrough: Int, indexedKeys: Set<String>
    ) throws(StorageError) -> TraceBlockMeta {
        let ordered = traceIDs.sorted()
        var strings = BlockStrings()
        var resources = BlockInterner<Resource>()
        var scopes = BlockInterner<InstrumentationScope>()
        var spansFile: [UInt8] = []
        var page: [UInt8] = []
        var pageRows: [Int] = []
        var table: [UInt8] = []
        var rowPageOffsets: [Int] = []
        var postings: [TracePostingKey: [UInt32]] = [:]
        var operations: [String: Set<TraceOperation>] = [:]
        var minStart = UInt64.max
        var maxEnd: UInt64 = 0
        var spanCount = 0
        var rows: [(id: TraceID, recordOffset: Int, count: Int, first: UInt64, last: UInt64, service: UInt32)] = []

        func flushPage() throws(StorageError) {
            guard !page.isEmpty else { return }
            let compressed = try Deflate.compress(page)
            let offset = spansFile.count
            withUnsafeBytes(of: UInt32(compressed.count).littleEndian) { spansFile.append(contentsOf: $0) }
            withUnsafeBytes(of: UInt32(page.count).littleEndian) { spansFile.append(contentsOf: $0) }
            withUnsafeBytes(of: CRC32C.checksum(compressed).littleEndian) { spansFile.append(contentsOf: $0) }
            spansFile.append(contentsOf: compressed)
            for _ in pageRows { rowPageOffsets.append(offset) }
            pageRows.removeAll()
            page.removeAll(keepingCapacity: true)
        }

        for id in ordered {
            let spans = spansOf(id).sorted { ($0.startTimeUnixNano, $0.spanID) < ($1.startTimeUnixNano, $1.spanID) }
            guard let first = spans.first else { continue }
            let firstStart = first.startTimeUnixNano
            let lastEnd = spans.map(\.endTimeUnixNano).max() ?? firstStart
            var record: [UInt8] = []
            BlockSpanCodec.appendRecord(spans, firstStart: firstStart, strings: &strings, resources: &resources, scopes: &scopes, to: &record)
            if !page.isEmpty && page.count + record.count > pageTargetBytes { try flushPage() }
            let row = rows.count
            let root = spans.first { $0.parentSpanID.isZero } ?? first
            rows.append((id, page.count, spans.count, firstStart, lastEnd, strings.ordinal(root.serviceName)))
            pageRows.append(row)
            page.append(contentsOf: record)
            minStart = min(minStart, firstStart)
            maxEnd = max(maxEnd, lastEnd)
            spanCount += spans.count
            var keys = Set<TracePostingKey>()
            for span in spans {
                let service = span.serviceName
                operations[service, default: []].insert(TraceOperation(name: span.name, kind: span.kind))
                keys.insert(.service(service))
                keys.insert(.operation(service: service, name: span.name, kind: span.kind))
                for attribute in span.attributes where indexedKeys.contains(attribute.key) {
                    keys.insert(.attribute(service: service, key: attribute.key, value: attribute.value.text))
                }
                if span.status.code == .error, indexedKeys.contains("error") {
                    keys.insert(.attribute(service: service, key: "error", value: "true"))
                }
            }
            for key in keys { postings[key, default: []].append(UInt32(row)) }
        }
        try flushPage()

        for (index, row) in rows.enumerated() {
            table.append(contentsOf: row.id.bytes)
            withUnsafeBytes(of: UInt64(rowPageOffsets[index]).littleEndian) { table.append(contentsOf: $0) }
            withUnsafeBytes(of: UInt32(row.recordOffset).littleEndian) { table.append(contentsOf: $0) }
            withUnsafeBytes(of: UInt32(row.count).littleEndian) { table.append(contentsOf: $0) }
            withUnsafeBytes(of: row.first.littleEndian) { table.append(contentsOf: $0) }
            withUnsafeBytes(of: row.last.littleEndian) { table.append(contentsOf: $0) }
            withUnsafeBytes(of: row.service.littleEndian) { table.append(contentsOf: $0) }
            table.append(contentsOf: [0, 0, 0, 0])
        }

        // Sections 4 and 5 may add strings: build them before the strings section.
        var servicesSection: [UInt8] = []
        Varint.appendUVarint(UInt64(operations.count), to: &servicesSection)
        for (service, set) in operations.sorted(by: { $0.key < $1.key }) {
            Varint.appendUVarint(UInt64(strings.ordinal(service)), to: &servicesSection)
            Varint.appendUVarint(UInt64(set.count), to: &servicesSection)
            for operation in set.sorted(by: { ($0.name, $0.kind.rawValue) < ($1.name, $1.kind.rawValue) }) {
                Varint.appendUVarint(UInt64(strings.ordinal(operation.name)), to: &servicesSection)
                servicesSection.append(operation.kind.rawValue)
            }
        }
        var postingsSection: [UInt8] = []
        Varint.appendUVarint(UInt64(postings.count), to: &postingsSection)
        for (key, list) in postings {
            switch key {
            case .service(let service):
                postingsSection.append(0)
                Varint.appendUVarint(UInt64(strings.ordinal(service)), to: &postingsSection)
            case .operation(let service, let name, let kind):
                postingsSection.append(1)
                Varint.appendUVarint(UInt64(strings.ordinal(service)), to: &postingsSection)
                Varint.appendUVarint(UInt64(strings.ordinal(name)), to: &postingsSection)
                postingsSection.append(kind.rawValue)
            case .attribute(let service, let attributeKey, let value):
                postingsSection.append(2)
                Varint.appendUVarint(UInt64(strings.ordinal(service)), to: &postingsSection)
                Varint.appendUVarint(UInt64(strings.ordinal(attributeKey)), to: &postingsSection)
                Varint.appendUVarint(UInt64(strings.ordinal(value)), to: &postingsSection)
            }
            Varint.appendUVarint(UInt64(list.count), to: &postingsSection)
            var previous: UInt32 = 0
            for row in list {
                Varint.appendUVarint(UInt64(row - previous), to: &postingsSection)
                previous = row
            }
        }
        var tablesSection: [UInt8] = []
        Varint.appendUVarint(UInt64(resources.values.count), to: &tablesSection)
        for resource in resources.values {
            BlockSpanCodec.appendAttributes(resource.attributes, &strings, to: &tablesSection)
            Varint.appendUVarint(UInt64(resource.droppedAttributesCount), to: &tablesSection)
        }
        Varint.appendUVarint(UInt64(scopes.values.count), to: &tablesSection)
        for scope in scopes.values {
            Varint.appendUVarint(UInt64(strings.ordinal(scope.name)), to: &tablesSection)
            Varint.appendUVarint(UInt64(strings.ordinal(scope.version)), to: &tablesSection)
            BlockSpanCodec.appendAttributes(scope.attributes, &strings, to: &tablesSection)
            Varint.appendUVarint(UInt64(scope.droppedAttributesCount), to: &tablesSection)
        }
        var stringsSection: [UInt8] = []
        Varint.appendUVarint(UInt64(strings.strings.count), to: &stringsSection)
        for text in strings.strings { SpanCodec.appendString(text, to: &stringsSection) }

        var index: [UInt8] = []
        var offsets: [UInt64] = []
        func section(_ bytes: [UInt8], compressed: Bool) throws(StorageError) {
            offsets.append(UInt64(index.count))
            var body: [UInt8] = []
            if compressed {
                withUnsafeBytes(of: UInt32(bytes.count).littleEndian) { body.append(contentsOf: $0) }
                body.append(contentsOf: try Deflate.compress(bytes))
            } else {
                body = bytes
            }
            withUnsafeBytes(of: UInt32(body.count).littleEndian) { index.append(contentsOf: $0) }
            index.append(contentsOf: body)
            withUnsafeBytes(of: CRC32C.checksum(body).littleEndian) { index.append(contentsOf: $0) }
        }
        try section(stringsSection, compressed: true)
        try section(tablesSection, compressed: true)
        try section(table, compressed: false)
        try section(servicesSection, compressed: true)
        try section(postingsSection, compressed: true)
        for offset in offsets { withUnsafeBytes(of: offset.littleEndian) { index.append(contentsOf: $0) } }
        index.append(contentsOf: magic)

        let meta = TraceBlockMeta(
            version: 1, ulid: ulid, minStartNanos: String(rows.isEmpty ? 0 : minStart), maxEndNanos: String(maxEnd),
            spans: spanCount, traces: rows.count, walSegmentsThrough: walSegmentsThrough, spansBytes: spansFile.count, indexBytes: index.count)
        let finalPath = blocksDirectory + "/" + ulid
        let temporary = finalPath + ".tmp"
        try TraceWAL.makeDirectory(temporary)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted]
        let metaBytes: [UInt8]
        do {
            metaBytes = Array(try encoder.encode(meta))
        } catch {
            throw StorageError(code: .io, message: "cannot encode the block's meta.json: \(error)")
        }
        try TraceFiles.writeDurably(temporary + "/spans", spansFile)
        try TraceFiles.writeDurably(temporary + "/index", index)
        try TraceFiles.writeDurably(temporary + "/meta.json", metaBytes)
        TraceWAL.syncDirectory(temporary)
        guard rename(temporary, finalPath) == 0 else {
            throw StorageError(code: .io, message: "cannot rename \(temporary) to \(finalPath): \(String(cString: strerror(errno)))")
        }
        TraceWAL.syncDirectory(blocksDirectory)
        return meta
    }
}

/// File helpers of the trace store.
enum TraceFiles {
    /// Writes `bytes` to a new file at `path` and fsyncs it.
    static func writeDurably(_ path: String, _ bytes: [UInt8]) throws(StorageError) {
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw StorageError(code: .io, message: "cannot create \(path): \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        guard bytes.withUnsafeBytes({ TraceWAL.writeAll(fd, $0) }), fsync(fd) == 0 else {
            throw StorageError(code: .io, message: "cannot write \(path): \(String(cString: strerror(errno)))")
        }
    }
}
