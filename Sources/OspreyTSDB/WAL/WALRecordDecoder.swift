package import OspreyEncoding
import OspreyModel

/// Decodes WAL record payloads written by Prometheus (v2.42 and later, classic record types) or by
/// ``WALRecordEncoder``. Layouts are listed on ``WALRecordEncoder``.
///
/// Every read is bounds-checked; errors are ``EncodingError``s whose offset is relative to the
/// first byte of the record (the type byte). Decoders append to the caller's array; on error the
/// array is restored to its previous count. Label strings go through a ``StringInterner`` so
/// repeated names and values share storage. Stateless apart from the interner; O(record size).
package enum WALRecordDecoder {
    /// Metadata field names, as Prometheus' `unitMetaName` and `helpMetaName`.
    static let unitField = "UNIT"
    static let helpField = "HELP"

    /// The type of a record payload; an empty record is `.unknown(255)`, Prometheus' `Unknown`.
    package static func type(of record: UnsafeRawBufferPointer) -> WALRecordType {
        guard let first = record.first else { return .unknown(255) }
        return WALRecordType(byte: first)
    }

    /// The type of a record payload; see ``type(of:)-(UnsafeRawBufferPointer)``.
    package static func type(of record: [UInt8]) -> WALRecordType {
        guard let first = record.first else { return .unknown(255) }
        return WALRecordType(byte: first)
    }

    /// Decodes any record into a freshly allocated value; unknown types decode to `.unknown`.
    /// Convenient for tests and tools; replay uses the appending decoders to reuse buffers.
    package static func decode(_ record: [UInt8], interner: StringInterner) throws(EncodingError) -> WALRecord {
        try withBytes(of: record) { (bytes) throws(EncodingError) -> WALRecord in
            switch type(of: bytes) {
            case .series:
                var out: [RefSeries] = []
                try decodeSeries(bytes, into: &out, interner: interner)
                return .series(out)
            case .samples:
                var out: [RefSample] = []
                try decodeSamples(bytes, into: &out)
                return .samples(out)
            case .tombstones:
                var out: [RefTombstone] = []
                try decodeTombstones(bytes, into: &out)
                return .tombstones(out)
            case .exemplars:
                var out: [RefExemplar] = []
                try decodeExemplars(bytes, into: &out, interner: interner)
                return .exemplars(out)
            case .metadata:
                var out: [RefMetadata] = []
                try decodeMetadata(bytes, into: &out, interner: interner)
                return .metadata(out)
            case .unknown(let byte):
                return .unknown(type: byte)
            }
        }
    }

    /// Appends the entries of a series record (type 1) to `series`.
    package static func decodeSeries(
        _ record: UnsafeRawBufferPointer, into series: inout [RefSeries], interner: StringInterner
    ) throws(EncodingError) {
        let start = series.count
        do throws(EncodingError) {
            var reader = try payloadReader(record, expecting: .series)
            while !reader.isAtEnd {
                let ref = try reader.readUInt64BE()
                let labels = try readLabels(&reader, interner: interner)
                series.append(RefSeries(ref: ref, labels: labels))
            }
        } catch {
            series.removeSubrange(start...)
            throw error
        }
    }

    /// Appends the samples of a samples record (type 2) to `samples`; grows the array at most
    /// once per record.
    package static func decodeSamples(_ record: UnsafeRawBufferPointer, into samples: inout [RefSample]) throws(EncodingError) {
        let start = samples.count
        do throws(EncodingError) {
            var reader = try payloadReader(record, expecting: .samples)
            if reader.isAtEnd { return }
            let baseRef = try reader.readUInt64BE()
            let baseTime = Int64(bitPattern: try reader.readUInt64BE())
            // Each sample takes at least 1 + 1 + 8 bytes.
            samples.reserveCapacity(samples.count + reader.remaining / 10)
            while !reader.isAtEnd {
                let refDelta = try reader.readVarint()
                let timeDelta = try reader.readVarint()
                let bits = try reader.readUInt64BE()
                samples.append(
                    RefSample(
                        ref: baseRef &+ UInt64(bitPattern: refDelta), timestampMs: baseTime &+ timeDelta,
                        value: Double(bitPattern: bits)))
            }
        } catch {
            samples.removeSubrange(start...)
            throw error
        }
    }

    /// Appends the intervals of a tombstones record (type 3) to `tombstones`.
    package static func decodeTombstones(
        _ record: UnsafeRawBufferPointer, into tombstones: inout [RefTombstone]
    ) throws(EncodingError) {
        let start = tombstones.count
        do throws(EncodingError) {
            var reader = try payloadReader(record, expecting: .tombstones)
            while !reader.isAtEnd {
                let ref = try reader.readUInt64BE()
                let minTime = try reader.readVarint()
                let maxTime = try reader.readVarint()
                tombstones.append(RefTombstone(ref: ref, minTimeMs: minTime, maxTimeMs: maxTime))
            }
        } catch {
            tombstones.removeSubrange(start...)
            throw error
        }
    }

    /// Appends the entries of an exemplars record (type 4) to `exemplars`.
    package static func decodeExemplars(
        _ record: UnsafeRawBufferPointer, into exemplars: inout [RefExemplar], interner: StringInterner
    ) throws(EncodingError) {
        let start = exemplars.count
        do throws(EncodingError) {
            var reader = try payloadReader(record, expecting: .exemplars)
            if reader.isAtEnd { return }
            let baseRef = try reader.readUInt64BE()
            let baseTime = Int64(bitPattern: try reader.readUInt64BE())
            while !reader.isAtEnd {
                let refDelta = try reader.readVarint()
                let timeDelta = try reader.readVarint()
                let bits = try reader.readUInt64BE()
                let labels = try readLabels(&reader, interner: interner)
                exemplars.append(
                    RefExemplar(
                        ref: baseRef &+ UInt64(bitPattern: refDelta), timestampMs: baseTime &+ timeDelta,
                        value: Double(bitPattern: bits), labels: labels))
            }
        } catch {
            exemplars.removeSubrange(start...)
            throw error
        }
    }

    /// Appends the entries of a metadata record (type 6) to `metadata`. Fields other than UNIT
    /// and HELP are skipped, as Prometheus does, so newer writers stay readable.
    package static func decodeMetadata(
        _ record: UnsafeRawBufferPointer, into metadata: inout [RefMetadata], interner: StringInterner
    ) throws(EncodingError) {
        let start = metadata.count
        do throws(EncodingError) {
            var reader = try payloadReader(record, expecting: .metadata)
            while !reader.isAtEnd {
                let ref = try reader.readUVarint()
                let typeByte = try reader.readUInt8()
                let fieldsOffset = reader.offset
                let fieldCount = try reader.readUVarint()
                guard fieldCount <= UInt64(reader.remaining / 2) else {
                    throw EncodingError(code: .corrupt, message: "metadata entry claims \(fieldCount) fields", offset: fieldsOffset)
                }
                var unit = ""
                var help = ""
                for _ in 0..<fieldCount {
                    let name = try reader.readBytes(try readLength(&reader))
                    let value = try reader.readBytes(try readLength(&reader))
                    if name.elementsEqual(unitField.utf8) {
                        unit = interner.intern(value)
                    } else if name.elementsEqual(helpField.utf8) {
                        help = interner.intern(value)
                    }
                }
                metadata.append(RefMetadata(ref: ref, type: MetricType(walByte: typeByte), unit: unit, help: help))
            }
        } catch {
            metadata.removeSubrange(start...)
            throw error
        }
    }

    /// A reader positioned after the type byte, which must be `expected`.
    private static func payloadReader(
        _ record: UnsafeRawBufferPointer, expecting expected: WALRecordType
    ) throws(EncodingError) -> ByteReader {
        var reader = ByteReader(record)
        let byte = try reader.readUInt8()
        guard byte == expected.byte else {
            throw EncodingError(code: .corrupt, message: "record type \(byte) is not \(expected)", offset: 0)
        }
        return reader
    }

    private static func readLength(_ reader: inout ByteReader) throws(EncodingError) -> Int {
        let offset = reader.offset
        let length = try reader.readUVarint()
        guard length <= UInt64(reader.remaining) else {
            throw EncodingError(code: .truncated, message: "string of \(length) bytes, \(reader.remaining) left", offset: offset)
        }
        return Int(length)
    }

    private static func readLabels(_ reader: inout ByteReader, interner: StringInterner) throws(EncodingError) -> Labels {
        let countOffset = reader.offset
        let count = try reader.readUVarint()
        // Each label takes at least two length bytes.
        guard count <= UInt64(reader.remaining / 2) else {
            throw EncodingError(code: .corrupt, message: "label set claims \(count) labels", offset: countOffset)
        }
        var labels: [Label] = []
        labels.reserveCapacity(Int(count))
        var sorted = true
        for _ in 0..<count {
            let name = interner.intern(try reader.readBytes(try readLength(&reader)))
            let value = interner.intern(try reader.readBytes(try readLength(&reader)))
            if let previous = labels.last, !previous.name.utf8.lexicographicallyPrecedes(name.utf8) {
                sorted = false
            }
            labels.append(Label(name: name, value: value))
        }
        // Prometheus writes labels sorted; anything else is normalised rather than trusted.
        return sorted ? Labels(sortedUnchecked: labels) : Labels(sorting: labels)
    }
}
