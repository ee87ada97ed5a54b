import OspreyEncoding
import OspreyModel

/// Encodes WAL record payloads byte for byte as Prometheus' `record.Encoder` (v2.42), appending to
/// the caller's buffer (which is not cleared first).
///
/// Layouts (`tsdb/docs/format/wal.md`, and record.go where the doc is stale):
/// - series `1`: per series `ref<8 BE>`, `n<uvarint>`, n × (`len<uvarint>` name, `len<uvarint>` value)
/// - samples `2`: `first_ref<8 BE>`, `first_t<8 BE>`, per sample `ref − first_ref<varint>`,
///   `t − first_t<varint>` (zig-zag), `value<8 BE>`
/// - tombstones `3`: per interval `ref<8 BE>`, `mint<varint>`, `maxt<varint>`
/// - exemplars `4`: as samples, plus the exemplar's labels as in series records
/// - metadata `6`: per entry `ref<uvarint>`, `type<1>`, `2<uvarint>`, "UNIT", unit, "HELP", help
///
/// Stateless; safe to call from any thread. O(total encoded size).
package enum WALRecordEncoder {
    /// Appends a series record.
    package static func encodeSeries(_ series: [RefSeries], into buffer: inout [UInt8]) {
        buffer.append(WALRecordType.series.byte)
        for entry in series {
            buffer.appendUInt64BE(entry.ref)
            appendLabels(entry.labels, to: &buffer)
        }
    }

    /// Appends a samples record; an empty list encodes as the type byte alone (as Prometheus).
    package static func encodeSamples(_ samples: [RefSample], into buffer: inout [UInt8]) {
        buffer.append(WALRecordType.samples.byte)
        guard let first = samples.first else { return }
        buffer.reserveCapacity(buffer.count + 16 + samples.count * 12)
        buffer.appendUInt64BE(first.ref)
        buffer.appendUInt64BE(UInt64(bitPattern: first.timestampMs))
        for sample in samples {
            // Wrapping arithmetic as Go's int64 conversion: refs above Int64.max still round-trip.
            Varint.appendVarint(Int64(bitPattern: sample.ref &- first.ref), to: &buffer)
            Varint.appendVarint(sample.timestampMs &- first.timestampMs, to: &buffer)
            buffer.appendUInt64BE(sample.value.bitPattern)
        }
    }

    /// Appends a tombstones record, one entry per interval.
    package static func encodeTombstones(_ tombstones: [RefTombstone], into buffer: inout [UInt8]) {
        buffer.append(WALRecordType.tombstones.byte)
        for tombstone in tombstones {
            buffer.appendUInt64BE(tombstone.ref)
            Varint.appendVarint(tombstone.minTimeMs, to: &buffer)
            Varint.appendVarint(tombstone.maxTimeMs, to: &buffer)
        }
    }

    /// Appends an exemplars record; an empty list encodes as the type byte alone.
    package static func encodeExemplars(_ exemplars: [RefExemplar], into buffer: inout [UInt8]) {
        buffer.append(WALRecordType.exemplars.byte)
        guard let first = exemplars.first else { return }
        buffer.appendUInt64BE(first.ref)
        buffer.appendUInt64BE(UInt64(bitPattern: first.timestampMs))
        for exemplar in exemplars {
            Varint.appendVarint(Int64(bitPattern: exemplar.ref &- first.ref), to: &buffer)
            Varint.appendVarint(exemplar.timestampMs &- first.timestampMs, to: &buffer)
            buffer.appendUInt64BE(exemplar.value.bitPattern)
            appendLabels(exemplar.labels, to: &buffer)
        }
    }

    /// Appends a metadata record.
    package static func encodeMetadata(_ metadata: [RefMetadata], into buffer: inout [UInt8]) {
        buffer.append(WALRecordType.metadata.byte)
        for entry in metadata {
            Varint.appendUVarint(entry.ref, to: &buffer)
            buffer.append(entry.type.walByte)
            Varint.appendUVarint(2, to: &buffer)
            appendString(WALRecordDecoder.unitField, to: &buffer)
            appendString(entry.unit, to: &buffer)
            appendString(WALRecordDecoder.helpField, to: &buffer)
            appendString(entry.help, to: &buffer)
        }
    }

    private static func appendLabels(_ labels: Labels, to buffer: inout [UInt8]) {
        Varint.appendUVarint(UInt64(labels.count), to: &buffer)
        for label in labels {
            appendString(label.name, to: &buffer)
            appendString(label.value, to: &buffer)
        }
    }

    private static func appendString(_ string: String, to buffer: inout [UInt8]) {
        var string = string
        string.withUTF8 { utf8 in
            Varint.appendUVarint(UInt64(utf8.count), to: &buffer)
            buffer.append(contentsOf: utf8)
        }
    }
}
