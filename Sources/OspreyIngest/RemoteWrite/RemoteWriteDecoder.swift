import OspreyEncoding
package import OspreyModel

/// Decodes Prometheus remote-write bodies: snappy, then `prometheus.WriteRequest` (1.0) or
/// `io.prometheus.write.v2.Request` (2.0). Field numbers from prometheus/prompb `types.proto`,
/// `remote.proto` and `io/prometheus/write/v2/types.proto`.
package enum RemoteWriteDecoder {
    /// Decompresses a snappy block, refusing to inflate past `maxDecodedBytes`.
    package static func decompress(_ body: [UInt8], maxDecodedBytes: Int) throws(IngestError) -> [UInt8] {
        do {
            return try Snappy.decompress(body, maxDecodedLength: maxDecodedBytes)
        } catch {
            if error.code == .tooLarge {
                throw IngestError(code: .tooLarge, message: "snappy: decoded body larger than \(maxDecodedBytes) bytes")
            }
            throw IngestError(code: .badRequest, message: "snappy: \(error.message)", offset: error.offset)
        }
    }

    /// Decodes a `prometheus.WriteRequest`.
    package static func decodeV1(_ body: UnsafeRawBufferPointer) throws(IngestError) -> RemoteWriteRequest {
        var reader = ProtoReader(body)
        var request = RemoteWriteRequest()
        while !reader.isAtEnd {
            let (field, wire) = try reader.readTag()
            switch field {
            case 1:
                try reader.expect(wire, .lengthDelimited, field: field)
                var message = try reader.readMessage()
                request.timeseries.append(try decodeV1Series(&message))
            case 3:
                try reader.expect(wire, .lengthDelimited, field: field)
                var message = try reader.readMessage()
                request.metadata.append(try decodeV1Metadata(&message))
            default:
                try reader.skip(wire)
            }
        }
        return request
    }

    private static func decodeV1Series(_ reader: inout ProtoReader) throws(IngestError) -> RemoteTimeSeries {
        var labels: [Label] = []
        var series = RemoteTimeSeries(labels: .empty)
        while !reader.isAtEnd {
            let (field, wire) = try reader.readTag()
            switch field {
            case 1:
                try reader.expect(wire, .lengthDelimited, field: field)
                var message = try reader.readMessage()
                labels.append(try decodeLabel(&message))
            case 2:
                try reader.expect(wire, .lengthDelimited, field: field)
                var message = try reader.readMessage()
                series.samples.append(try decodeSample(&message))
            case 3:
                try reader.expect(wire, .lengthDelimited, field: field)
                var message = try reader.readMessage()
                series.exemplars.append(try decodeV1Exemplar(&message))
            case 4:
                try reader.expect(wire, .lengthDelimited, field: field)
                var message = try reader.readMessage()
                series.histograms.append(try HistogramDecoder.decode(&message))
            default:
                try reader.skip(wire)
            }
        }
        series.labels = Labels(sortingKeepingDuplicates: labels)
        return series
    }

    private static func decodeLabel(_ reader: inout ProtoReader) throws(IngestError) -> Label {
        var name = ""
        var value = ""
        while !reader.isAtEnd {
            let (field, wire) = try reader.readTag()
            switch field {
            case 1:
                try reader.expect(wire, .lengthDelimited, field: field)
                name = try reader.readString()
            case 2:
                try reader.expect(wire, .lengthDelimited, field: field)
                value = try reader.readString()
            default:
                try reader.skip(wire)
            }
        }
        return Label(name: name, value: value)
    }

    /// `Sample { double value = 1; int64 timestamp = 2; }` (same in 1.0 and 2.0).
    static func decodeSample(_ reader: inout ProtoReader) throws(IngestError) -> Sample {
        var sample = Sample(timestampMs: 0, value: 0)
        while !reader.isAtEnd {
            let (field, wire) = try reader.readTag()
            switch field {
            case 1:
                try reader.expect(wire, .fixed64, field: field)
                sample.value = try reader.readDouble()
            case 2:
                try reader.expect(wire, .varint, field: field)
                sample.timestampMs = Int64(bitPattern: try reader.readVarint())
            default:
                try reader.skip(wire)
            }
        }
        return sample
    }

    private static func decodeV1Exemplar(_ reader: inout ProtoReader) throws(IngestError) -> Exemplar {
        var labels: [Label] = []
        var value = 0.0
        var timestamp: Int64?
        while !reader.isAtEnd {
            let (field, wire) = try reader.readTag()
            switch field {
            case 1:
                try reader.expect(wire, .lengthDelimited, field: field)
                var message = try reader.readMessage()
                labels.append(try decodeLabel(&message))
            case 2:
                try reader.expect(wire, .fixed64, field: field)
                value = try reader.readDouble()
            case 3:
                try reader.expect(wire, .varint, field: field)
                timestamp = Int64(bitPattern: try reader.readVarint())
            default:
                try reader.skip(wire)
            }
        }
        return Exemplar(labels: Labels(sortingKeepingDuplicates: labels), value: value, timestampMs: timestamp)
    }

    private static func decodeV1Metadata(_ reader: inout ProtoReader) throws(IngestError) -> RemoteMetricMetadata {
        var result = RemoteMetricMetadata(metricFamilyName: "", metadata: MetricMetadata(type: .unknown))
        while !reader.isAtEnd {
            let (field, wire) = try reader.readTag()
            switch field {
            case 1:
                try reader.expect(wire, .varint, field: field)
                result.metadata.type = MetricType(protoNumber: try reader.readVarint())
            case 2:
                try reader.expect(wire, .lengthDelimited, field: field)
                result.metricFamilyName = try reader.readString()
            case 4:
                try reader.expect(wire, .lengthDelimited, field: field)
                result.metadata.help = try reader.readString()
            case 5:
                try reader.expect(wire, .lengthDelimited, field: field)
                result.metadata.unit = try reader.readString()
            default:
                try reader.skip(wire)
            }
        }
        return result
    }
}

extension Labels {
    /// Sorts labels by name without dropping empty values or duplicates, so that validation
    /// sees exactly what the client sent (empty values are dropped afterwards).
    package init(sortingKeepingDuplicates labels: [Label]) {
        var sorted = labels
        var isSorted = true
        var index = 1
        while index < sorted.count {
            if !sorted[index - 1].name.utf8.lexicographicallyPrecedes(sorted[index].name.utf8) && sorted[index - 1].name != sorted[index].name {
                isSorted = false
                break
            }
            index += 1
        }
        if !isSorted { sorted.sort { $0.name.utf8.lexicographicallyPrecedes($1.name.utf8) } }
        self.init(sortedUnchecked: sorted)
    }
}
