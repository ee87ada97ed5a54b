import OspreyEncoding
@testable import OspreyIngest
import OspreyModel
import Testing

struct RemoteWriteDecoderTests {
    private func decodeV1(_ name: String) throws -> RemoteWriteRequest {
        let body = try RemoteWriteDecoder.decompress(try fixture(name), maxDecodedBytes: 1 << 20)
        return try body.withUnsafeBytes { bytes throws(IngestError) in try RemoteWriteDecoder.decodeV1(bytes) }
    }

    @Test func decodesAWriteRequestMadeByTheReferenceImplementation() throws {
        let request = try decodeV1("write_v1.pb.snappy")
        let expected = try fixtureJSON("write_v1")
        let series = try #require(expected["series"] as? [[String: Any]])
        #expect(request.timeseries.count == series.count)
        for (decoded, want) in zip(request.timeseries, series) {
            let labels = try #require(want["labels"] as? [String: String])
            #expect(decoded.labels == Labels(labels))
            let samples = try #require(want["samples"] as? [[Any]])
            #expect(decoded.samples.count == samples.count)
            for (sample, pair) in zip(decoded.samples, samples) {
                #expect(sample.timestampMs == Int64(jsonNumber: pair[0]))
            }
        }
        let first = request.timeseries[0]
        #expect(first.samples == [Sample(timestampMs: 1_700_000_000_000, value: 1), Sample(timestampMs: 1_700_000_015_000, value: 7.5)])
        #expect(first.exemplars == [Exemplar(labels: Labels(["trace_id": "4bf92f3577b34da6a3ce929d0e0e4736"]), value: 0.25, timestampMs: 1_700_000_000_123)])
        let weird = request.timeseries[2]
        #expect(weird.samples[0].value.bitPattern == (-0.0).bitPattern)
        #expect(weird.samples[1].value == .infinity)
        #expect(weird.labels["ü"] == "ä\"\\\n")
        let histogram = try #require(request.timeseries[3].histograms.first)
        #expect(histogram.timestampMs == 1_700_000_000_000)
        #expect(histogram.histogram.count == 10)
        #expect(histogram.histogram.zeroCount == 2)
        #expect(histogram.histogram.positiveBuckets == [2, 3, 2])
        #expect(histogram.histogram.negativeBuckets == [2])
        #expect(histogram.histogram.negativeSpans == [BucketSpan(offset: -2, length: 1)])
        #expect(histogram.histogram.counterResetHint == .notCounterReset)
        #expect(request.metadata == [RemoteMetricMetadata(metricFamilyName: "http_requests_total", metadata: MetricMetadata(type: .counter, help: "Requests."))])
    }

    @Test func decodesARemoteWrite2Request() throws {
        let body = try RemoteWriteDecoder.decompress(try fixture("write_v2.pb.snappy"), maxDecodedBytes: 1 << 20)
        let request = try body.withUnsafeBytes { bytes throws(IngestError) in try RemoteWriteDecoder.decodeV2(bytes) }
        let series = try #require(request.timeseries.first)
        #expect(series.labels == Labels(["__name__": "http_requests_total", "job": "api"]))
        #expect(series.samples == [Sample(timestampMs: 1_700_000_000_000, value: 3)])
        #expect(series.metadata == MetricMetadata(type: .counter, unit: "requests", help: "Requests."))
        #expect(series.startTimestampMs == 1_699_999_990_000)
        #expect(series.exemplars == [Exemplar(labels: Labels(["trace_id": "abc"]), value: 1, timestampMs: 1_700_000_000_001)])
    }

    @Test func rejectsBadSymbolReferences() throws {
        var writer = ProtoWriter()
        writer.writeStringField(4, "")
        writer.writeStringField(4, "__name__")
        writer.writeMessageField(5) { series in
            series.writeVarintField(1, 1)
            series.writeVarintField(1, 9)
        }
        #expect(throws: IngestError.self) {
            try writer.bytes.withUnsafeBytes { bytes throws(IngestError) in try RemoteWriteDecoder.decodeV2(bytes) }
        }
    }

    @Test func corruptSnappyAndOversizeBodiesAreErrors() throws {
        #expect(throws: IngestError.self) { try RemoteWriteDecoder.decompress([0xFF, 0xFF, 0xFF, 0xFF, 0x0F, 0x01], maxDecodedBytes: 1 << 20) }
        let big = Snappy.compress([UInt8](repeating: 7, count: 4096))
        do {
            _ = try RemoteWriteDecoder.decompress(big, maxDecodedBytes: 1024)
            Issue.record("expected an error")
        } catch {
            #expect(error.code == .tooLarge)
        }
    }

    @Test func randomMutationsNeverCrashTheDecoder() throws {
        let original = try RemoteWriteDecoder.decompress(try fixture("write_v1.pb.snappy"), maxDecodedBytes: 1 << 20)
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<2000 {
            var mutated = original
            for _ in 0..<Int.random(in: 1...4, using: &generator) {
                mutated[Int.random(in: 0..<mutated.count, using: &generator)] = UInt8.random(in: 0...255, using: &generator)
            }
            if Bool.random(using: &generator) { mutated.removeLast(Int.random(in: 0..<mutated.count, using: &generator)) }
            _ = try? mutated.withUnsafeBytes { bytes throws(IngestError) in try RemoteWriteDecoder.decodeV1(bytes) }
            _ = try? mutated.withUnsafeBytes { bytes throws(IngestError) in try RemoteWriteDecoder.decodeV2(bytes) }
        }
    }
}

/// JSON numbers come back as NSNumber on Linux; read them as Int64.
private extension Int64 {
    init(jsonNumber value: Any) {
        if let number = value as? Int { self = Int64(number) } else if let number = value as? Double { self = Int64(number) } else { self = .min }
    }
}
