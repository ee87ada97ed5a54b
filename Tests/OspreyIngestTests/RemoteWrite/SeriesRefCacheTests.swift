import OspreyIngest
import OspreyModel
import OspreyStorage
import OspreyTestSupport
import Testing

struct SeriesRefCacheTests {
    private func body(labelsFirst: Bool = true) -> [UInt8] {
        var writer = ProtoWriter()
        writer.writeMessageField(1) { series in
            let labels: (inout ProtoWriter) -> Void = { w in
                w.writeMessageField(1) { $0.writeStringField(1, "__name__"); $0.writeStringField(2, "m") }
                w.writeMessageField(1) { $0.writeStringField(1, "job"); $0.writeStringField(2, "x") }
            }
            let sample: (inout ProtoWriter) -> Void = { w in
                w.writeMessageField(2) { $0.writeDoubleField(1, 1); $0.writeInt64Field(2, 1000) }
            }
            if labelsFirst {
                labels(&series)
                sample(&series)
            } else {
                series.writeMessageField(1) { $0.writeStringField(1, "__name__"); $0.writeStringField(2, "m") }
                sample(&series)
                series.writeMessageField(1) { $0.writeStringField(1, "job"); $0.writeStringField(2, "x") }
            }
        }
        return writer.bytes
    }

    private func decode(_ bytes: [UInt8], _ cache: SeriesRefCache?) throws -> RemoteWriteRequest {
        try bytes.withUnsafeBytes { raw throws(IngestError) in try RemoteWriteDecoder.decodeV1(raw, cache: cache) }
    }

    @Test func knownLabelBytesSkipLabelDecoding() throws {
        let cache = SeriesRefCache()
        let first = try decode(body(), cache)
        let key = try #require(first.timeseries[0].cacheKey)
        #expect(first.timeseries[0].labels == Labels(["__name__": "m", "job": "x"]))
        cache.insert(key, SeriesRef(42))
        let second = try decode(body(), cache)
        #expect(second.timeseries[0].cachedRef == SeriesRef(42))
        #expect(second.timeseries[0].labels.isEmpty)
        #expect(second.timeseries[0].samples == [Sample(timestampMs: 1000, value: 1)])
    }

    @Test func manyKeysGrowTheTableAndStayExact() {
        let cache = SeriesRefCache(capacity: 1 << 20, shardCount: 4)
        let keys = (0..<20_000).map { Array("series-\($0)-labels".utf8) }
        for (index, key) in keys.enumerated() { cache.insert(key, SeriesRef(UInt64(index + 1))) }
        for (index, key) in keys.enumerated() {
            #expect(key.withUnsafeBytes { cache.ref(for: $0) } == SeriesRef(UInt64(index + 1)))
        }
        #expect(Array("series-20000-labels".utf8).withUnsafeBytes { cache.ref(for: $0) } == nil)
        cache.insert(keys[7], SeriesRef(999))
        #expect(keys[7].withUnsafeBytes { cache.ref(for: $0) } == SeriesRef(999))
    }

    @Test func aFullShardIsClearedNotOverfilled() {
        let cache = SeriesRefCache(capacity: 8, shardCount: 1)
        for index in 0..<9 { cache.insert([UInt8(index)], SeriesRef(UInt64(index + 1))) }
        #expect([UInt8(8)].withUnsafeBytes { cache.ref(for: $0) } == SeriesRef(9))
        #expect([UInt8(0)].withUnsafeBytes { cache.ref(for: $0) } == nil)
    }

    @Test func labelsAfterOtherFieldsAreNeverCached() throws {
        let cache = SeriesRefCache()
        let decoded = try decode(body(labelsFirst: false), cache)
        #expect(decoded.timeseries[0].cacheKey == nil)
        #expect(decoded.timeseries[0].labels == Labels(["__name__": "m", "job": "x"]))
    }

    @Test func ingestLearnsReferencesAndAStaleCacheIsReported() async throws {
        let cache = SeriesRefCache()
        let store = ReferenceStore()
        _ = try await RemoteWriteIngester().ingest(try decode(body(), cache), into: store.appender(), cache: cache)
        let cached = try decode(body(), cache)
        #expect(cached.timeseries[0].cachedRef != nil)
        // The reference store knows no references, like an engine that dropped the series.
        let appender = StaleRefAppender()
        await #expect(throws: RemoteWriteIngester.StaleCacheError.self) {
            try await RemoteWriteIngester().ingest(cached, into: appender, cache: cache)
        }
        #expect(appender.rolledBack)
        #expect(try decode(body(), cache).timeseries[0].cachedRef == nil)
    }
}

private final class StaleRefAppender: MetricAppender {
    var rolledBack = false

    func append(_ ref: SeriesRef?, labels: Labels, timestampMs: Int64, value: Double) throws(StorageError) -> SeriesRef {
        throw StorageError(code: .unknownSeriesRef, message: "unknown series reference")
    }
    func appendHistogram(_ ref: SeriesRef?, labels: Labels, timestampMs: Int64, histogram: FloatHistogram) throws(StorageError) -> SeriesRef { SeriesRef(1) }
    func appendExemplar(_ ref: SeriesRef?, labels: Labels, exemplar: Exemplar) throws(StorageError) -> SeriesRef { SeriesRef(1) }
    func updateMetadata(_ ref: SeriesRef?, labels: Labels, metadata: MetricMetadata) throws(StorageError) -> SeriesRef { SeriesRef(1) }
    func appendStartTimestamp(_ ref: SeriesRef?, labels: Labels, startTimestampMs: Int64, timestampMs: Int64) throws(StorageError) -> SeriesRef { SeriesRef(1) }
    func commit() async throws(StorageError) -> AppendSummary { AppendSummary() }
    func rollback() { rolledBack = true }
}
