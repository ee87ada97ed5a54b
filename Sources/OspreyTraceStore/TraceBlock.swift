import Foundation
import OspreyEncoding
package import OspreyModel
package import OspreyStorage
package import Synchronization

/// One immutable block of the trace store, read through memory maps.
package final class TraceBlock: Sendable {
    static let rowBytes = 56

    package let meta: TraceBlockMeta
    package let path: String
    private let spans: MappedFile
    private let index: MappedFile
    /// Strings, resources and scopes, decoded when a read needs them and dropped when the store
    /// keeps too many blocks' tables (see ``releaseTables()``).
    private let loadedTables = Mutex<BlockTables?>(nil)
    private let tableSections: (strings: Range<Int>, tables: Range<Int>)
    /// When the block was last read (a counter of the store's), for dropping tables.
    package let lastUse = Atomic<UInt64>(0)
    /// Service → its operations.
    package let operations: [String: Set<TraceOperation>]
    private let tableOffset: Int
    private let postingsSection: Range<Int>

    /// Opens the block in `path`.
    package init(path: String) throws(StorageError) {
        self.path = path
        do {
            meta = try JSONDecoder().decode(TraceBlockMeta.self, from: Data(contentsOf: URL(fileURLWithPath: path + "/meta.json")))
        } catch {
            throw StorageError(code: .io, message: "cannot read \(path)/meta.json: \(error)")
        }
        spans = try MappedFile(path: path + "/spans")
        index = try MappedFile(path: path + "/index")
        let bytes = index.bytes
        let sectionCount = 5
        let footer = sectionCount * 8 + TraceBlockWriter.magic.count
        guard bytes.count >= footer, Array(bytes[(bytes.count - 8)...]) == TraceBlockWriter.magic else {
            throw StorageError(code: .io, message: "\(path)/index is not a trace block index")
        }
        var sections: [Range<Int>] = []
        for number in 0..<sectionCount {
            let offset = Int(UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: bytes.count - footer + number * 8, as: UInt64.self)))
            guard offset + 8 <= bytes.count - footer else { throw StorageError(code: .io, message: "\(path)/index: section \(number + 1) out of range") }
            let length = Int(UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: offset, as: UInt32.self)))
            guard offset + 8 + length <= bytes.count - footer else { throw StorageError(code: .io, message: "\(path)/index: section \(number + 1) out of range") }
            let body = (offset + 4)..<(offset + 4 + length)
            let crc = UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: offset + 4 + length, as: UInt32.self))
            guard CRC32C.checksum(UnsafeRawBufferPointer(rebasing: bytes[body])) == crc else {
                throw StorageError(code: .io, message: "\(path)/index: section \(number + 1) fails its checksum")
            }
            sections.append(body)
        }
        func inflate(_ range: Range<Int>) throws(StorageError) -> [UInt8] {
            guard range.count >= 4 else { throw StorageError(code: .io, message: "\(path)/index: short section") }
            let size = Int(UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: range.lowerBound, as: UInt32.self)))
            return try Deflate.decompress(UnsafeRawBufferPointer(rebasing: bytes[(range.lowerBound + 4)..<range.upperBound]), size: size)
        }
        let stringBytes = try inflate(sections[0])
        let tableBytes = try inflate(sections[1])
        let serviceBytes = try inflate(sections[3])
        let decoded = Self.decodeTables(stringBytes, tableBytes, serviceBytes)
        switch decoded {
        case .success(let (_, operations)):
            self.operations = operations
        case .failure(let error):
            throw StorageError(code: .io, message: "\(path)/index is corrupt: \(error)")
        }
        guard sections[2].count == meta.traces * Self.rowBytes else {
            throw StorageError(code: .io, message: "\(path)/index: the trace table has \(sections[2].count) bytes for \(meta.traces) traces")
        }
        tableOffset = sections[2].lowerBound
        postingsSection = sections[4]
        tableSections = (sections[0], sections[1])
    }

    /// The block's strings, resources and scopes, decoded on first use.
    func tables() throws(StorageError) -> BlockTables {
        if let loaded = loadedTables.withLock({ $0 }) { return loaded }
        let bytes = index.bytes
        func inflate(_ range: Range<Int>) throws(StorageError) -> [UInt8] {
            let size = Int(UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: range.lowerBound, as: UInt32.self)))
            return try Deflate.decompress(UnsafeRawBufferPointer(rebasing: bytes[(range.lowerBound + 4)..<range.upperBound]), size: size)
        }
        switch Self.decodeTables(try inflate(tableSections.strings), try inflate(tableSections.tables), []) {
        case .success(let (tables, _)):
            loadedTables.withLock { $0 = tables }
            return tables
        case .failure(let error):
            throw StorageError(code: .io, message: "\(path)/index is corrupt: \(error)")
        }
    }

    /// Whether the tables are in memory.
    package var tablesLoaded: Bool { loadedTables.withLock { $0 != nil } }

    /// Drops the decoded tables (they are decoded again when needed).
    package func releaseTables() {
        loadedTables.withLock { $0 = nil }
    }

    /// Strings, resources, scopes and services from their (inflated) index sections.
    private static func decodeTables(_ stringBytes: [UInt8], _ tableBytes: [UInt8], _ serviceBytes: [UInt8]) -> Result<(BlockTables, [String: Set<TraceOperation>]), EncodingError> {
        let strings = stringBytes.withUnsafeBytes { raw in
            Result { () throws(EncodingError) -> [String] in
                var reader = ByteReader(raw)
                let count = try SpanCodec.readCount(&reader)
                var strings: [String] = []
                strings.reserveCapacity(count)
                for _ in 0..<count { strings.append(try SpanCodec.readString(&reader)) }
                return strings
            }
        }
        guard case .success(let list) = strings else { return strings.map { _ in (BlockTables(strings: [], resources: [], scopes: []), [:]) } }
        let tables = tableBytes.withUnsafeBytes { raw in
            Result { () throws(EncodingError) -> BlockTables in
                var tables = BlockTables(strings: list, resources: [], scopes: [])
                var reader = ByteReader(raw)
                let resourceCount = try SpanCodec.readCount(&reader)
                for _ in 0..<resourceCount {
                    let attributes = try BlockSpanCodec.readAttributes(&reader, tables)
                    tables.resources.append(Resource(attributes: attributes, droppedAttributesCount: try SpanCodec.readUInt32(&reader)))
                }
                let scopeCount = try SpanCodec.readCount(&reader)
                for _ in 0..<scopeCount {
                    let name = try BlockSpanCodec.string(&reader, tables)
                    let version = try BlockSpanCodec.string(&reader, tables)
                    let attributes = try BlockSpanCodec.readAttributes(&reader, tables)
                    tables.scopes.append(InstrumentationScope(name: name, version: version, attributes: attributes, droppedAttributesCount: try SpanCodec.readUInt32(&reader)))
                }
                return tables
            }
        }
        guard case .success(let blockTables) = tables else { return tables.map { ($0, [:]) } }
        if serviceBytes.isEmpty { return .success((blockTables, [:])) }
        return serviceBytes.withUnsafeBytes { raw in
            Result { () throws(EncodingError) -> (BlockTables, [String: Set<TraceOperation>]) in
                var reader = ByteReader(raw)
                var operations: [String: Set<TraceOperation>] = [:]
                let count = try SpanCodec.readCount(&reader)
                for _ in 0..<count {
                    let service = try BlockSpanCodec.string(&reader, blockTables)
                    let operationCount = try SpanCodec.readCount(&reader)
                    var set = Set<TraceOperation>()
                    for _ in 0..<operationCount {
                        let name = try BlockSpanCodec.string(&reader, blockTables)
                        set.insert(TraceOperation(name: name, kind: SpanKind(rawValue: try reader.readUInt8()) ?? .unspecified))
                    }
                    operations[service] = set
                }
                return (blockTables, operations)
            }
        }
    }

    /// A row of the trace table.
    struct Row {
        var id: TraceID
        var pageOffset: Int
        var recordOffset: Int
        var spanCount: Int
        var firstStart: UInt64
        var lastEnd: UInt64
    }

    func row(_ number: Int) -> Row {
        let bytes = index.bytes
        let at = tableOffset + number * Self.rowBytes
        func u64(_ offset: Int) -> UInt64 { UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: at + offset, as: UInt64.self)) }
        func u32(_ offset: Int) -> UInt32 { UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: at + offset, as: UInt32.self)) }
        let id = TraceID(high: UInt64(bigEndian: bytes.loadUnaligned(fromByteOffset: at, as: UInt64.self)),
                         low: UInt64(bigEndian: bytes.loadUnaligned(fromByteOffset: at + 8, as: UInt64.self)))
        return Row(id: id, pageOffset: Int(u64(16)), recordOffset: Int(u32(24)), spanCount: Int(u32(28)), firstStart: u64(32), lastEnd: u64(40))
    }

    /// The row of a trace, by binary search.
    func rowNumber(of id: TraceID) -> Int? {
        var low = 0
        var high = meta.traces - 1
        while low <= high {
            let middle = (low + high) / 2
            let candidate = row(middle).id
            if candidate == id { return middle }
            if candidate < id { low = middle + 1 } else { high = middle - 1 }
        }
        return nil
    }

    /// The spans of a trace in this block.
    package func trace(_ id: TraceID) throws(StorageError) -> [SpanRecord] {
        guard let number = rowNumber(of: id) else { return [] }
        return try record(row(number))
    }

    func record(_ row: Row) throws(StorageError) -> [SpanRecord] {
        let blockTables = try tables()
        let page = try self.page(at: row.pageOffset)
        let outcome = page.withUnsafeBytes { raw in
            Result { () throws(EncodingError) -> [SpanRecord] in
                guard row.recordOffset < raw.count else { throw EncodingError(code: .corrupt, message: "record offset past the page", offset: row.recordOffset) }
                var reader = ByteReader(UnsafeRawBufferPointer(rebasing: raw[row.recordOffset...]))
                return try BlockSpanCodec.readRecord(&reader, traceID: row.id, firstStart: row.firstStart, tables: blockTables)
            }
        }
        do {
            return try outcome.get()
        } catch {
            throw StorageError(code: .io, message: "\(path)/spans: corrupt trace record of \(row.id): \(error)")
        }
    }

    func page(at offset: Int) throws(StorageError) -> [UInt8] {
        let bytes = spans.bytes
        guard offset + 12 <= bytes.count else { throw StorageError(code: .io, message: "\(path)/spans: page offset \(offset) past the end") }
        let compressedLength = Int(UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: offset, as: UInt32.self)))
        let length = Int(UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: offset + 4, as: UInt32.self)))
        let crc = UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: offset + 8, as: UInt32.self))
        guard offset + 12 + compressedLength <= bytes.count else { throw StorageError(code: .io, message: "\(path)/spans: page at \(offset) runs past the end") }
        let compressed = UnsafeRawBufferPointer(rebasing: bytes[(offset + 12)..<(offset + 12 + compressedLength)])
        guard CRC32C.checksum(compressed) == crc else { throw StorageError(code: .io, message: "\(path)/spans: page at \(offset) fails its checksum") }
        return try Deflate.decompress(compressed, size: length)
    }

    /// Rows listed under each of `keys` (empty when none). The postings section is decoded
    /// for each search and not kept, so memory does not grow with the blocks searched.
    func postings(_ keys: [TracePostingKey]) throws(StorageError) -> [[UInt32]] {
        let all = try decodePostings()
        return keys.map { all[$0] ?? [] }
    }

    private func decodePostings() throws(StorageError) -> [TracePostingKey: [UInt32]] {
        let bytes = index.bytes
        let range = postingsSection
        let size = Int(UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: range.lowerBound, as: UInt32.self)))
        let raw = try Deflate.decompress(UnsafeRawBufferPointer(rebasing: bytes[(range.lowerBound + 4)..<range.upperBound]), size: size)
        let tables = try self.tables()
        let outcome = raw.withUnsafeBytes { buffer in
            Result { () throws(EncodingError) -> [TracePostingKey: [UInt32]] in
                var reader = ByteReader(buffer)
                var out: [TracePostingKey: [UInt32]] = [:]
                let count = try SpanCodec.readCount(&reader)
                for _ in 0..<count {
                    let key: TracePostingKey
                    switch try reader.readUInt8() {
                    case 0: key = .service(try BlockSpanCodec.string(&reader, tables))
                    case 1:
                        let service = try BlockSpanCodec.string(&reader, tables)
                        let name = try BlockSpanCodec.string(&reader, tables)
                        key = .operation(service: service, name: name, kind: SpanKind(rawValue: try reader.readUInt8()) ?? .unspecified)
                    default:
                        let service = try BlockSpanCodec.string(&reader, tables)
                        let attribute = try BlockSpanCodec.string(&reader, tables)
                        key = .attribute(service: service, key: attribute, value: try BlockSpanCodec.string(&reader, tables))
                    }
                    let rows = try SpanCodec.readCount(&reader)
                    var list: [UInt32] = []
                    list.reserveCapacity(rows)
                    var previous: UInt64 = 0
                    for _ in 0..<rows {
                        previous += try reader.readUVarint()
                        list.append(UInt32(truncatingIfNeeded: previous))
                    }
                    out[key] = list
                }
                return out
            }
        }
        do {
            return try outcome.get()
        } catch {
            throw StorageError(code: .io, message: "\(path)/index: corrupt postings: \(error)")
        }
    }

    /// The traces of this block with a span matching `query`, with the start of the newest
    /// matching span, at most `limit` of the newest.
    package func find(_ query: TraceQuery, indexedKeys: Set<String>) throws(StorageError) -> [(TraceID, UInt64)] {
        guard meta.maxEnd >= query.startTimeMinNanos, meta.minStart <= query.startTimeMaxNanos else { return [] }
        var keys: [TracePostingKey] = [.service(query.serviceName)]
        let kinds = query.spanKind.map { [$0] } ?? SpanKind.allCases
        if let operation = query.operationName {
            keys += kinds.map { .operation(service: query.serviceName, name: operation, kind: $0) }
        }
        let indexedConditions = query.attributes.filter { indexedKeys.contains($0.key) }
        keys += indexedConditions.map { .attribute(service: query.serviceName, key: $0.key, value: $0.value) }
        let lists = try postings(keys)
        var candidates = lists[0]
        if query.operationName != nil {
            let rows = lists[1...kinds.count].flatMap { $0 }
            candidates = intersect(candidates, Array(Set(rows)).sorted())
        }
        for list in lists.suffix(indexedConditions.count) {
            candidates = intersect(candidates, list)
        }
        // Latest-ending first; stop once `limit` matches start after every remaining end.
        let rows = candidates.map { row(Int($0)) }.filter { $0.lastEnd >= query.startTimeMinNanos && $0.firstStart <= query.startTimeMaxNanos }
            .sorted { $0.lastEnd > $1.lastEnd }
        var found: [(TraceID, UInt64)] = []
        for candidate in rows {
            if found.count >= query.limit, let weakest = found.map(\.1).min(), weakest > candidate.lastEnd { break }
            var newest: UInt64?
            for span in try record(candidate) where TraceMatching.matches(span, query) {
                newest = max(newest ?? 0, span.startTimeUnixNano)
            }
            if let newest {
                found.append((candidate.id, newest))
                if found.count > query.limit {
                    found.sort { $0.1 > $1.1 }
                    found.removeLast()
                }
            }
        }
        return found
    }

    /// Parent → child service calls of this block's traces in the range.
    package func dependencies(startNanos: UInt64, endNanos: UInt64, into counts: inout [ServicePair: Int]) throws(StorageError) {
        guard meta.maxEnd >= startNanos, meta.minStart <= endNanos else { return }
        for number in 0..<meta.traces {
            let candidate = row(number)
            guard candidate.lastEnd >= startNanos, candidate.firstStart <= endNanos else { continue }
            TraceHead.countDependencies(try record(candidate), startNanos: startNanos, endNanos: endNanos, into: &counts)
        }
    }

    private func intersect(_ a: [UInt32], _ b: [UInt32]) -> [UInt32] {
        var out: [UInt32] = []
        var i = 0
        var j = 0
        while i < a.count && j < b.count {
            if a[i] == b[j] {
                out.append(a[i])
                i += 1
                j += 1
            } else if a[i] < b[j] {
                i += 1
            } else {
                j += 1
            }
        }
        return out
    }
}
