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

    /// Decodes a `prometheus.WriteRequest`. With a `cache`, series whose label bytes it knows
    /// come back with ``RemoteTimeSeries/cachedRef`` set and no labels decoded.
    package static func decodeV1(_ body: UnsafeRawBufferPointer, cache: SeriesRefCache? = nil) throws(IngestError) -> RemoteWriteRequest {
        var reader = ProtoReader(body)
        var request = RemoteWriteRequest()
        while !reader.isAtEnd {
            let (field, wire) = try reader.readTag()
            switch field {
            case 1:
                try reader.expect(wire, .lengthDelimited, field: field)
                var message = try reader.readMessage()
                if let cache, let cached = try decodeV1CachedSeries(message, cache) {
                    request.timeseries.append(cached)
                } else {
                    request.timeseries.append(try decodeV1Series(&message, learning: cache != nil))
                }
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

    /// The leading run of label fields of a series message: its byte range and the reader after it.
    private static func labelPrefix(_ message: ProtoReader) throws(IngestError) -> (Range<Int>, ProtoReader) {
        var probe = message
        let start = probe.offset
        var end = start
        while !probe.isAtEnd {
            let before = probe
            let (field, wire) = try probe.readTag()
            guard field == 1 else {
                probe = before
                break
            }
            try probe.skip(wire)
            end = probe.offset
        }
        return (start..<end, probe)
    }

    /// The series decoded without its labels when the cache knows its label bytes; nil otherwise
    /// (including when label fields follow other fields, which the cache key would not cover).
    private static func decodeV1CachedSeries(_ message: ProtoReader, _ cache: SeriesRefCache) throws(IngestError) -> RemoteTimeSeries? {
        let (range, rest) = try labelPrefix(message)
        guard !range.isEmpty, let ref = cache.ref(for: message.bytes(range)) else { return nil }
        var reader = rest
        var series = RemoteTimeSeries(labels: .empty)
        series.cachedRef = ref
        while !reader.isAtEnd {
            let (field, wire) = try reader.readTag()
            guard try decodeV1SeriesField(field, wire, &reader, into: &series) else { return nil }
        }
        return series
    }

    private static func decodeV1Series(_ reader: inout ProtoReader, learning: Bool) throws(IngestError) -> RemoteTimeSeries {
        var labels: [Label] = []
        var series = RemoteTimeSeries(labels: .empty)
        if learning {
            let (range, _) = try labelPrefix(reader)
            if !range.isEmpty { series.cacheKey = Array(reader.bytes(range)) }
        }
        var sawOtherField = false
        while !reader.isAtEnd {
            let (field, wire) = try reader.readTag()
            if field == 1 {
                try reader.expect(wire, .lengthDelimited, field: field)
                var message = try reader.readMessage()
                labels.append(try decodeLabel(&message))
                // A label after other fields is not covered by the prefix key: do not cache.
                if sawOtherField { series.cacheKey = nil }
            } else {
                sawOtherField = true
                _ = try decodeV1SeriesField(field, wire, &reader, into: &series)
            }
        }
        series.labels = Labels(sortingKeepingDuplicates: labels)
        return series
    }

    /// Decodes one non-label field of a series; returns false for a label field.
    private static func decodeV1SeriesField(
        _ field: Int, _ wire: WireType, _ reader: inout ProtoReader, into series: inout RemoteTimeSeries
    ) throws(IngestError) -> Bool {
        switch field {
        case 1:
            return false
        case 2:
            try reader.expect(wire, .lengthDelimited, field: field)
            var message = try reader.readMessage()
            series.sampleList.append(try decodeSample(&message))
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
        return true
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
