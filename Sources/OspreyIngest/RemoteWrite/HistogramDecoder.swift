import OspreyModel

/// Decodes a remote-write `Histogram` message (same fields in 1.0 and 2.0) into float form:
/// integer bucket deltas become absolute float counts.
enum HistogramDecoder {
    static func decode(_ reader: inout ProtoReader) throws(IngestError) -> RemoteHistogramSample {
        var histogram = FloatHistogram(schema: 0, count: 0, sum: 0)
        var timestamp: Int64 = 0
        var positiveDeltas: [Int64] = []
        var negativeDeltas: [Int64] = []
        var positiveCounts: [Double] = []
        var negativeCounts: [Double] = []
        while !reader.isAtEnd {
            let (field, wire) = try reader.readTag()
            switch field {
            case 1: histogram.count = Double(try reader.readVarint())
            case 2: histogram.count = try reader.readDouble()
            case 3: histogram.sum = try reader.readDouble()
            case 4: histogram.schema = Int32(truncatingIfNeeded: try reader.readSignedVarint())
            case 5: histogram.zeroThreshold = try reader.readDouble()
            case 6: histogram.zeroCount = Double(try reader.readVarint())
            case 7: histogram.zeroCount = try reader.readDouble()
            case 8:
                var message = try reader.readMessage()
                histogram.negativeSpans.append(try decodeSpan(&message))
            case 9: try reader.readRepeated(wire, element: .varint) { r throws(IngestError) in negativeDeltas.append(try r.readSignedVarint()) }
            case 10: try reader.readRepeated(wire, element: .fixed64) { r throws(IngestError) in negativeCounts.append(try r.readDouble()) }
            case 11:
                var message = try reader.readMessage()
                histogram.positiveSpans.append(try decodeSpan(&message))
            case 12: try reader.readRepeated(wire, element: .varint) { r throws(IngestError) in positiveDeltas.append(try r.readSignedVarint()) }
            case 13: try reader.readRepeated(wire, element: .fixed64) { r throws(IngestError) in positiveCounts.append(try r.readDouble()) }
            case 14: histogram.counterResetHint = CounterResetHint(rawValue: UInt8(truncatingIfNeeded: try reader.readVarint())) ?? .unknown
            case 15: timestamp = Int64(bitPattern: try reader.readVarint())
            case 16: try reader.readRepeated(wire, element: .fixed64) { r throws(IngestError) in histogram.customValues.append(try r.readDouble()) }
            default: try reader.skip(wire)
            }
        }
        histogram.positiveBuckets = positiveCounts.isEmpty ? absolute(positiveDeltas) : positiveCounts
        histogram.negativeBuckets = negativeCounts.isEmpty ? absolute(negativeDeltas) : negativeCounts
        return RemoteHistogramSample(timestampMs: timestamp, histogram: histogram)
    }

    private static func decodeSpan(_ reader: inout ProtoReader) throws(IngestError) -> BucketSpan {
        var span = BucketSpan(offset: 0, length: 0)
        while !reader.isAtEnd {
            let (field, wire) = try reader.readTag()
            switch field {
            case 1: span.offset = Int32(truncatingIfNeeded: try reader.readSignedVarint())
            case 2: span.length = UInt32(truncatingIfNeeded: try reader.readVarint())
            default: try reader.skip(wire)
            }
        }
        return span
    }

    private static func absolute(_ deltas: [Int64]) -> [Double] {
        var current: Int64 = 0
        return deltas.map { delta in
            current &+= delta
            return Double(current)
        }
    }
}
