import OspreyModel

extension RemoteWriteDecoder {
    /// Decodes an `io.prometheus.write.v2.Request`: `symbols = 4`, `timeseries = 5`; series
    /// reference their label strings by index into the symbols table.
    package static func decodeV2(_ body: UnsafeRawBufferPointer) throws(IngestError) -> RemoteWriteRequest {
        var reader = ProtoReader(body)
        var symbols: [String] = []
        var pending: [ProtoReader] = []
        while !reader.isAtEnd {
            let (field, wire) = try reader.readTag()
            switch field {
            case 4:
                try reader.expect(wire, .lengthDelimited, field: field)
                symbols.append(try reader.readString())
            case 5:
                try reader.expect(wire, .lengthDelimited, field: field)
                pending.append(try reader.readMessage())
            default:
                try reader.skip(wire)
            }
        }
        if let first = symbols.first, !first.isEmpty {
            throw IngestError(code: .badRequest, message: "remote write 2.0: the first symbol must be the empty string")
        }
        var request = RemoteWriteRequest()
        request.timeseries.reserveCapacity(pending.count)
        for var message in pending {
            request.timeseries.append(try decodeV2Series(&message, symbols))
        }
        return request
    }

    private static func symbol(_ ref: UInt64, _ symbols: [String], _ reader: ProtoReader) throws(IngestError) -> String {
        guard ref < UInt64(symbols.count) else {
            throw IngestError(code: .badRequest, message: "remote write 2.0: symbol reference \(ref) out of range (\(symbols.count) symbols)", offset: reader.offset)
        }
        return symbols[Int(ref)]
    }

    private static func labels(_ refs: [UInt64], _ symbols: [String], _ reader: ProtoReader) throws(IngestError) -> Labels {
        guard refs.count % 2 == 0 else {
            throw IngestError(code: .badRequest, message: "remote write 2.0: odd number of label references (\(refs.count))", offset: reader.offset)
        }
        var labels: [Label] = []
        labels.reserveCapacity(refs.count / 2)
        var index = 0
        while index < refs.count {
            labels.append(Label(name: try symbol(refs[index], symbols, reader), value: try symbol(refs[index + 1], symbols, reader)))
            index += 2
        }
        return Labels(sortingKeepingDuplicates: labels)
    }

    private static func decodeV2Series(_ reader: inout ProtoReader, _ symbols: [String]) throws(IngestError) -> RemoteTimeSeries {
        var refs: [UInt64] = []
        var series = RemoteTimeSeries(labels: .empty)
        while !reader.isAtEnd {
            let (field, wire) = try reader.readTag()
            switch field {
            case 1:
                try reader.readRepeated(wire, element: .varint) { r throws(IngestError) in refs.append(try r.readVarint()) }
            case 2:
                try reader.expect(wire, .lengthDelimited, field: field)
                var message = try reader.readMessage()
                series.sampleList.append(try decodeSample(&message))
            case 3:
                try reader.expect(wire, .lengthDelimited, field: field)
                var message = try reader.readMessage()
                series.histograms.append(try HistogramDecoder.decode(&message))
            case 4:
                try reader.expect(wire, .lengthDelimited, field: field)
                var message = try reader.readMessage()
                series.exemplars.append(try decodeV2Exemplar(&message, symbols))
            case 5:
                try reader.expect(wire, .lengthDelimited, field: field)
                var message = try reader.readMessage()
                series.metadata = try decodeV2Metadata(&message, symbols)
            case 6:
                try reader.expect(wire, .varint, field: field)
                let value = Int64(bitPattern: try reader.readVarint())
                series.startTimestampMs = value == 0 ? nil : value
            default:
                try reader.skip(wire)
            }
        }
        series.labels = try labels(refs, symbols, reader)
        return series
    }

    private static func decodeV2Exemplar(_ reader: inout ProtoReader, _ symbols: [String]) throws(IngestError) -> Exemplar {
        var refs: [UInt64] = []
        var value = 0.0
        var timestamp: Int64?
        while !reader.isAtEnd {
            let (field, wire) = try reader.readTag()
            switch field {
            case 1: try reader.readRepeated(wire, element: .varint) { r throws(IngestError) in refs.append(try r.readVarint()) }
            case 2: value = try reader.readDouble()
            case 3: timestamp = Int64(bitPattern: try reader.readVarint())
            default: try reader.skip(wire)
            }
        }
        return Exemplar(labels: try labels(refs, symbols, reader), value: value, timestampMs: timestamp)
    }

    private static func decodeV2Metadata(_ reader: inout ProtoReader, _ symbols: [String]) throws(IngestError) -> MetricMetadata {
        var metadata = MetricMetadata(type: .unknown)
        while !reader.isAtEnd {
            let (field, wire) = try reader.readTag()
            switch field {
            case 1: metadata.type = MetricType(protoNumber: try reader.readVarint())
            case 3: metadata.help = try symbol(try reader.readVarint(), symbols, reader)
            case 4: metadata.unit = try symbol(try reader.readVarint(), symbols, reader)
            default: try reader.skip(wire)
            }
        }
        return metadata
    }
}
