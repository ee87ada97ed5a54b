import OspreyEncoding
import OspreyModel
import Testing

@testable import OspreyTSDB

struct WALRecordTests {
    // MARK: - Known bytes (derived from record.go's Encoder.Series / Encoder.Samples, v2.42)

    /// `Encoder.Series`: type 1, then per series `PutBE64(ref)`, `PutUvarint(len(labels))` and
    /// `PutUvarintStr` for each name and value.
    @Test func seriesRecordMatchesPrometheusBytes() throws {
        var bytes: [UInt8] = []
        WALRecordEncoder.encodeSeries(
            [RefSeries(ref: 1, labels: Labels(["__name__": "up", "job": "a"]))], into: &bytes)
        let expected: [UInt8] =
            [0x01]  // record type: series
            + [0, 0, 0, 0, 0, 0, 0, 1]  // ref, 8 bytes big endian
            + [0x02]  // two labels
            + [0x08] + Array("__name__".utf8) + [0x02] + Array("up".utf8)
            + [0x03] + Array("job".utf8) + [0x01] + Array("a".utf8)
        #expect(bytes == expected)
    }

    /// `Encoder.Samples`: type 2, `PutBE64(first.Ref)`, `PutBE64int64(first.T)`, then per sample
    /// `PutVarint64(ref - first.Ref)`, `PutVarint64(t - first.T)` (zig-zag) and the float bits.
    @Test func samplesRecordMatchesPrometheusBytes() {
        var bytes: [UInt8] = []
        WALRecordEncoder.encodeSamples(
            [RefSample(ref: 1, timestampMs: 1000, value: 1.0), RefSample(ref: 2, timestampMs: 900, value: 2.0)],
            into: &bytes)
        let expected: [UInt8] =
            [0x02]  // record type: samples
            + [0, 0, 0, 0, 0, 0, 0, 1]  // first ref
            + [0, 0, 0, 0, 0, 0, 0x03, 0xE8]  // first timestamp 1000
            + [0x00, 0x00] + [0x3F, 0xF0, 0, 0, 0, 0, 0, 0]  // Δref 0, Δt 0, 1.0
            + [0x02, 0xC7, 0x01] + [0x40, 0, 0, 0, 0, 0, 0, 0]  // Δref +1 → 2, Δt −100 → 199, 2.0
        #expect(bytes == expected)
    }

    /// `Encoder.Metadata`: `PutUvarint64(ref)`, type byte, `PutUvarint(2)`, then "UNIT", unit,
    /// "HELP", help as uvarint-prefixed strings. Counter is 1 in record.go's MetricType.
    @Test func metadataRecordMatchesPrometheusBytes() {
        var bytes: [UInt8] = []
        WALRecordEncoder.encodeMetadata([RefMetadata(ref: 300, type: .counter, unit: "s", help: "h")], into: &bytes)
        let expected: [UInt8] =
            [0x06, 0xAC, 0x02, 0x01, 0x02]
            + [0x04] + Array("UNIT".utf8) + [0x01] + Array("s".utf8)
            + [0x04] + Array("HELP".utf8) + [0x01] + Array("h".utf8)
        #expect(bytes == expected)
    }

    @Test func emptySamplesRecordIsTheTypeByteAlone() throws {
        var bytes: [UInt8] = []
        WALRecordEncoder.encodeSamples([], into: &bytes)
        #expect(bytes == [0x02])
        #expect(try WALRecordDecoder.decode(bytes, interner: StringInterner()) == .samples([]))
    }

    @Test func encodersAppendWithoutClearingTheBuffer() {
        var bytes: [UInt8] = [0xAA]
        WALRecordEncoder.encodeTombstones([RefTombstone(ref: 1, minTimeMs: 0, maxTimeMs: 1)], into: &bytes)
        #expect(bytes.first == 0xAA)
        #expect(bytes[1] == 0x03)
    }

    // MARK: - Round trips

    @Test(arguments: [1, 2, 3, 4, 5] as [UInt64])
    func randomRecordsRoundTrip(seed: UInt64) throws {
        var generator = SeededGenerator(seed: seed)
        let interner = StringInterner()
        let series = (0..<50).map { index in
            RefSeries(
                ref: UInt64.random(in: 0...UInt64.max, using: &generator),
                labels: Labels(["__name__": "metric_\(index % 7)", "instance": "host-\(Int.random(in: 0...9, using: &generator))", "é": "ü\(index)"]))
        }
        let samples = (0..<500).map { _ in
            RefSample(
                ref: UInt64.random(in: 0...UInt64.max, using: &generator),
                timestampMs: Int64.random(in: Int64.min...Int64.max, using: &generator),
                value: Double(bitPattern: generator.next()))
        }
        let tombstones = (0..<20).map { _ in
            RefTombstone(
                ref: generator.next(), minTimeMs: Int64.random(in: -1_000_000...0, using: &generator),
                maxTimeMs: Int64.random(in: 0...Int64.max, using: &generator))
        }
        let exemplars = (0..<30).map { index in
            RefExemplar(
                ref: generator.next(), timestampMs: Int64.random(in: -5000...5000, using: &generator),
                value: Double(bitPattern: generator.next()), labels: Labels(["trace_id": "t\(index)"]))
        }
        let metadata = MetricType.allCases.enumerated().map { index, type in
            RefMetadata(ref: UInt64(index) * 1000, type: type, unit: index.isMultiple(of: 2) ? "seconds" : "", help: "help \(index)")
        }
        for record in [
            WALRecord.series(series), .samples(samples), .tombstones(tombstones), .exemplars(exemplars), .metadata(metadata),
        ] {
            let bytes = Self.encode(record)
            #expect(try WALRecordDecoder.decode(bytes, interner: interner) == record)
        }
    }

    @Test func sampleValuesKeepTheirExactBits() throws {
        let patterns: [UInt64] = [
            0x7FF0_0000_0000_0002,  // staleness marker
            0x7FF8_0000_0000_0001,  // quiet NaN with a payload
            0xFFF0_0000_0000_0001,  // signalling NaN, sign bit set
            0x8000_0000_0000_0000,  // −0
            0x7FF0_0000_0000_0000,  // +Inf
        ]
        let samples = patterns.enumerated().map { index, bits in
            RefSample(ref: 10 - UInt64(index), timestampMs: -Int64(index) * 15_000, value: Double(bitPattern: bits))
        }
        let bytes = Self.encode(.samples(samples))
        var decoded: [RefSample] = []
        try bytes.withUnsafeBytes { try WALRecordDecoder.decodeSamples($0, into: &decoded) }
        #expect(decoded.map(\.value.bitPattern) == patterns)
        #expect(decoded.map(\.ref) == [10, 9, 8, 7, 6])
        #expect(decoded.map(\.timestampMs) == [0, -15_000, -30_000, -45_000, -60_000])
        #expect(StaleMarker.isStale(decoded[0].value))
    }

    @Test func samplesDecoderAppendsToTheCallersArray() throws {
        var decoded = [RefSample(ref: 99, timestampMs: 1, value: 1)]
        let bytes = Self.encode(.samples([RefSample(ref: 1, timestampMs: 2, value: 3)]))
        try bytes.withUnsafeBytes { try WALRecordDecoder.decodeSamples($0, into: &decoded) }
        #expect(decoded == [RefSample(ref: 99, timestampMs: 1, value: 1), RefSample(ref: 1, timestampMs: 2, value: 3)])
    }

    // MARK: - Errors and unknown types

    @Test func truncatedSamplesRecordThrowsWithOffsetAndLeavesTheArrayUnchanged() throws {
        let bytes = Self.encode(.samples([RefSample(ref: 1, timestampMs: 2, value: 3), RefSample(ref: 2, timestampMs: 3, value: 4)]))
        let cut = Array(bytes.dropLast(3))
        var decoded = [RefSample(ref: 7, timestampMs: 7, value: 7)]
        let error = #expect(throws: EncodingError.self) {
            try cut.withUnsafeBytes { try WALRecordDecoder.decodeSamples($0, into: &decoded) }
        }
        #expect(error?.code == .truncated)
        #expect(error?.offset == 1 + 16 + 10 + 2)  // the second sample's value
        #expect(decoded.count == 1)
    }

    @Test func seriesRecordWithAnOverlongStringIsRejected() throws {
        let bytes: [UInt8] = [0x01, 0, 0, 0, 0, 0, 0, 0, 1, 0x01, 0x7F, 0x41]
        let error = #expect(throws: EncodingError.self) {
            _ = try WALRecordDecoder.decode(bytes, interner: StringInterner())
        }
        #expect(error?.code == .truncated)
        #expect(error?.offset == 10)
    }

    @Test(arguments: [5, 7, 8, 9, 10, 200] as [UInt8])
    func unknownRecordTypesDecodeAsUnknown(type: UInt8) throws {
        #expect(try WALRecordDecoder.decode([type, 1, 2, 3], interner: StringInterner()) == .unknown(type: type))
    }

    @Test func metadataTypesUsePrometheusBytes() {
        let expected: [MetricType: UInt8] = [
            .unknown: 0, .counter: 1, .gauge: 2, .histogram: 3, .gaugehistogram: 4, .summary: 5, .info: 6, .stateset: 7,
        ]
        for (type, byte) in expected {
            #expect(type.walByte == byte)
            #expect(MetricType(walByte: byte) == type)
        }
        #expect(MetricType(walByte: 42) == .unknown)
    }

    @Test func metadataDecoderSkipsUnknownFields() throws {
        var bytes: [UInt8] = [0x06, 0x05, 0x02, 0x03]
        for field in ["UNIT", "s", "COLOR", "red", "HELP", "h"] {
            bytes.append(UInt8(field.utf8.count))
            bytes += Array(field.utf8)
        }
        #expect(
            try WALRecordDecoder.decode(bytes, interner: StringInterner())
                == .metadata([RefMetadata(ref: 5, type: .gauge, unit: "s", help: "h")]))
    }

    @Test func unsortedLabelsAreSortedOnDecode() throws {
        let bytes: [UInt8] = [0x01, 0, 0, 0, 0, 0, 0, 0, 1, 0x02, 0x01, 0x7A, 0x01, 0x31, 0x01, 0x61, 0x01, 0x32]
        #expect(
            try WALRecordDecoder.decode(bytes, interner: StringInterner())
                == .series([RefSeries(ref: 1, labels: Labels(["a": "2", "z": "1"]))]))
    }

    @Test func internerReturnsOneStringPerDistinctValue() throws {
        let interner = StringInterner()
        let series = (0..<100).map { RefSeries(ref: UInt64($0), labels: Labels(["__name__": "a_rather_long_metric_name_total", "job": "j"])) }
        _ = try WALRecordDecoder.decode(Self.encode(.series(series)), interner: interner)
        #expect(interner.count == 4)
    }

    static func encode(_ record: WALRecord) -> [UInt8] {
        var bytes: [UInt8] = []
        switch record {
        case .series(let entries): WALRecordEncoder.encodeSeries(entries, into: &bytes)
        case .samples(let entries): WALRecordEncoder.encodeSamples(entries, into: &bytes)
        case .tombstones(let entries): WALRecordEncoder.encodeTombstones(entries, into: &bytes)
        case .exemplars(let entries): WALRecordEncoder.encodeExemplars(entries, into: &bytes)
        case .metadata(let entries): WALRecordEncoder.encodeMetadata(entries, into: &bytes)
        case .unknown(let type): bytes.append(type)
        }
        return bytes
    }
}
