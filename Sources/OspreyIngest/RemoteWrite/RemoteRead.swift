package import OspreyModel
package import OspreyStorage

/// One query of a remote-read request.
package struct RemoteReadQuery: Sendable {
    /// Start of the range (ms, inclusive).
    package var startTimestampMs: Int64
    /// End of the range (ms, inclusive).
    package var endTimestampMs: Int64
    /// The selectors.
    package var matchers: [LabelMatcher]
}

/// A decoded `prometheus.ReadRequest`.
package struct RemoteReadRequest: Sendable {
    /// The queries.
    package var queries: [RemoteReadQuery]
    /// Accepted response types: 0 `SAMPLES`, 1 `STREAMED_XOR_CHUNKS`; empty means samples.
    package var acceptedResponseTypes: [UInt64]

    /// Whether the client accepts the samples response Osprey sends.
    package var acceptsSamples: Bool { acceptedResponseTypes.isEmpty || acceptedResponseTypes.contains(0) }
}

/// Remote read (https://prometheus.io/docs/prometheus/latest/querying/remote_read_api/):
/// request decoding, query execution and `ReadResponse` encoding (samples response type).
package enum RemoteRead {
    /// Decodes `ReadRequest { repeated Query queries = 1; repeated ResponseType accepted_response_types = 2; }`.
    package static func decodeRequest(_ body: UnsafeRawBufferPointer) throws(IngestError) -> RemoteReadRequest {
        var reader = ProtoReader(body)
        var request = RemoteReadRequest(queries: [], acceptedResponseTypes: [])
        while !reader.isAtEnd {
            let (field, wire) = try reader.readTag()
            switch field {
            case 1:
                try reader.expect(wire, .lengthDelimited, field: field)
                var message = try reader.readMessage()
                request.queries.append(try decodeQuery(&message))
            case 2:
                try reader.readRepeated(wire, element: .varint) { r throws(IngestError) in request.acceptedResponseTypes.append(try r.readVarint()) }
            default:
                try reader.skip(wire)
            }
        }
        return request
    }

    private static func decodeQuery(_ reader: inout ProtoReader) throws(IngestError) -> RemoteReadQuery {
        var query = RemoteReadQuery(startTimestampMs: 0, endTimestampMs: 0, matchers: [])
        while !reader.isAtEnd {
            let (field, wire) = try reader.readTag()
            switch field {
            case 1: query.startTimestampMs = Int64(bitPattern: try reader.readVarint())
            case 2: query.endTimestampMs = Int64(bitPattern: try reader.readVarint())
            case 3:
                try reader.expect(wire, .lengthDelimited, field: field)
                var message = try reader.readMessage()
                query.matchers.append(try decodeMatcher(&message))
            default: try reader.skip(wire)
            }
        }
        return query
    }

    private static func decodeMatcher(_ reader: inout ProtoReader) throws(IngestError) -> LabelMatcher {
        var type: UInt64 = 0
        var name = ""
        var value = ""
        let start = reader.offset
        while !reader.isAtEnd {
            let (field, wire) = try reader.readTag()
            switch field {
            case 1: type = try reader.readVarint()
            case 2: name = try reader.readString()
            case 3: value = try reader.readString()
            default: try reader.skip(wire)
            }
        }
        let types: [MatchType] = [.equal, .notEqual, .regexMatch, .notRegexMatch]
        guard type < 4 else { throw IngestError(code: .badRequest, message: "unknown matcher type \(type)", offset: start) }
        do {
            return try LabelMatcher(types[Int(type)], name, value)
        } catch {
            throw IngestError(code: .badRequest, message: error.message, offset: start)
        }
    }

    /// Runs every query and encodes the `ReadResponse`. Stops with `.limitExceeded` when more
    /// than `maxSamples` samples would be returned (0 = no limit).
    package static func execute(_ request: RemoteReadRequest, on queryable: any MetricQueryable, maxSamples: Int) throws(StorageError) -> [UInt8] {
        var writer = ProtoWriter()
        var total = 0
        for query in request.queries {
            let querier = try queryable.querier(minTimeMs: query.startTimestampMs, maxTimeMs: query.endTimestampMs)
            defer { querier.close() }
            let set = try querier.select(sorted: true, hints: SelectHints(startMs: query.startTimestampMs, endMs: query.endTimestampMs), matchers: query.matchers)
            var result = ProtoWriter()
            while let series = try set.next() {
                var samples: [Sample] = []
                let iterator = series.iterator(reusing: nil)
                while iterator.next() == .float { samples.append(iterator.floatSample) }
                total += samples.count
                if maxSamples > 0 && total > maxSamples {
                    throw StorageError(code: .limitExceeded, message: "remote read would return more than \(maxSamples) samples; narrow the time range or the selectors")
                }
                result.writeMessageField(1) { encodeSeries(series.labels, samples, into: &$0) }
            }
            writer.writeMessageField(1) { $0.bytes.append(contentsOf: result.bytes) }
        }
        return writer.bytes
    }

    /// `TimeSeries { repeated Label labels = 1; repeated Sample samples = 2; }`.
    static func encodeSeries(_ labels: Labels, _ samples: [Sample], into writer: inout ProtoWriter) {
        for label in labels {
            writer.writeMessageField(1) { message in
                message.writeStringField(1, label.name)
                message.writeStringField(2, label.value)
            }
        }
        for sample in samples {
            writer.writeMessageField(2) { message in
                message.writeDoubleField(1, sample.value)
                message.writeInt64Field(2, sample.timestampMs)
            }
        }
    }
}
