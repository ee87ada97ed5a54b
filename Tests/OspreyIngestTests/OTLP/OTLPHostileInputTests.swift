import Foundation
import OspreyIngest
import OspreyModel
import OspreyStorage
import OspreyTestSupport
import OspreyWire
import SwiftProtobuf
import Testing

/// Inputs found in review that crashed, stalled or corrupted ingest.
struct OTLPHostileInputTests {
    typealias B = OTLPBuild

    func ingest(_ bytes: [UInt8], _ store: ReferenceStore, _ ingester: OTLPMetricsIngester = OTLPMetricsIngester()) async throws -> OTLPMetricsResult {
        try await ingester.ingest(bytes, into: store.appender(), nowNs: B.nowNs)
    }

    func stored(_ store: ReferenceStore) throws -> [String: [Double]] {
        var out: [String: [Double]] = [:]
        for (labels, samples) in try readAll(store, matchers: [matcher(.regexMatch, "__name__", ".+")]) {
            out[labels.description] = samples.map(\.value)
        }
        return out
    }

    @Test func exponentialOffsetsAtTheEdgesOfSint32DoNotTrap() async throws {
        // The review's 72-byte body: offset zig-zag(Int64.max) as a varint; protobuf reads the
        // low 32 bits of a sint32.
        let hex = "0a460a150a130a0c736572766963652e6e616d6512030a0161122d122b0a016852260a221900baff3f863feb18210100000000000000420e08feffffffffffffffff011201011002"
        var body: [UInt8] = []
        var index = hex.startIndex
        while index < hex.endIndex {
            let next = hex.index(index, offsetBy: 2)
            body.append(UInt8(hex[index..<next], radix: 16) ?? 0)
            index = next
        }
        let store = ReferenceStore()
        _ = try await ingest(body, store)
        for offset in [Int32.max, Int32.min] {
            var point = ExponentialPoint()
            point.timeUnixNano = B.nowNs - 60 * B.second
            point.positive.offset = offset
            point.positive.bucketCounts = [1, 1]
            point.negative.offset = offset
            point.negative.bucketCounts = [1, 0, 1]
            point.count = 4
            let result = try await ingest(try B.bytes(B.request(metrics: [B.exponential("e", [point])])), store)
            #expect(result.dataPoints == 1)
        }
        var wild = ExponentialPoint()
        wild.timeUnixNano = B.nowNs - 60 * B.second
        wild.scale = -64
        let result = try await ingest(try B.bytes(B.request(metrics: [B.exponential("w", [wild])])), store)
        #expect(result.rejectedDataPoints == 1 && result.errorMessage.contains("scale"))
    }

    @Test func aFuturePointDoesNotCarryTargetInfoIntoTheFuture() async throws {
        let store = ReferenceStore()
        let resource = [B.kv("service.name", "a"), B.kv("host.name", "h")]
        let future = B.number(1, at: 3600 + 86_400)
        let result = try await ingest(try B.bytes(B.request(resource: resource, metrics: [B.gauge("g", [future])])), store)
        #expect(result.rejectedDataPoints == 1)
        #expect(try stored(store).isEmpty)
    }

    @Test func targetInfoSamplesAreBoundedPerResource() async throws {
        let store = ReferenceStore()
        let resource = [B.kv("service.name", "a"), B.kv("host.name", "h")]
        var ancient = B.number(1, at: 0)
        ancient.timeUnixNano = 1_000_000
        _ = try await ingest(try B.bytes(B.request(resource: resource, metrics: [B.gauge("g", [ancient, B.number(2, at: 3500)])])), store)
        let samples = try readAll(store, matchers: [matcher(.equal, "__name__", "target_info")]).values.first ?? []
        #expect(samples.count == 24)
        #expect(samples.last?.timestampMs == Int64((B.nowNs - 100 * B.second) / 1_000_000))
    }

    @Test func aChangedResourceGetsItsOwnTargetInfo() async throws {
        let store = ReferenceStore()
        let ingester = OTLPMetricsIngester()
        for (second, pid) in [(UInt64(1), "100"), (2, "200")] {
            let resource = [B.kv("service.name", "api"), B.kv("service.instance.id", "i1"), B.kv("process.pid", pid)]
            _ = try await ingest(try B.bytes(B.request(resource: resource, metrics: [B.gauge("g", [B.number(1, at: second)])])), store, ingester)
        }
        let info = try stored(store).keys.filter { $0.hasPrefix("target_info") }.sorted()
        #expect(info == ["target_info{instance=\"i1\", job=\"api\", process_pid=\"100\"}", "target_info{instance=\"i1\", job=\"api\", process_pid=\"200\"}"])
    }

    @Test func deltaStreamsIgnoreAttributeOrder() async throws {
        let store = ReferenceStore()
        let ingester = OTLPMetricsIngester()
        let orders = [[B.kv("method", "GET"), B.kv("code", "200")], [B.kv("code", "200"), B.kv("method", "GET")], [B.kv("method", "GET"), B.kv("code", "200")]]
        for (step, attributes) in orders.enumerated() {
            let point = B.number(Double(step + 1), at: UInt64(10 * (step + 1)), attributes: attributes)
            _ = try await ingest(try B.bytes(B.request(resource: [], metrics: [B.sum("reqs", delta: true, [point])])), store, ingester)
        }
        #expect(try stored(store)["reqs_total{code=\"200\", method=\"GET\"}"] == [1, 3, 6])
    }

    @Test func nonFiniteDeltasAreRejectedAndRejectedPointsLeaveNoStream() async throws {
        let store = ReferenceStore()
        let ingester = OTLPMetricsIngester()
        let nan = B.number(.nan, at: 20)
        _ = try await ingest(try B.bytes(B.request(resource: [], metrics: [B.sum("d", delta: true, [B.number(1, at: 10), nan, B.number(1, at: 30)])])), store, ingester)
        #expect(try stored(store)["d_total{}"] == [1, 2])
        // A point refused by the storage (out of bounds here: a duplicate timestamp with another
        // value) is taken back from its stream.
        _ = try await ingest(try B.bytes(B.request(resource: [], metrics: [B.sum("d", delta: true, [B.number(5, at: 30)])])), store, ingester)
        _ = try await ingest(try B.bytes(B.request(resource: [], metrics: [B.sum("d", delta: true, [B.number(1, at: 40)])])), store, ingester)
        #expect(try stored(store)["d_total{}"] == [1, 2, 3])
    }

    @Test func aRequestThatFailsTakesItsDeltaUpdatesBack() async throws {
        let store = ReferenceStore()
        let ingester = OTLPMetricsIngester()
        _ = try await ingest(try B.bytes(B.request(resource: [], metrics: [B.sum("d", delta: true, [B.number(1, at: 10)])])), store, ingester)
        // Malformed after a valid delta point: nothing stored, the total stays 1.
        var broken = try B.bytes(B.request(resource: [], metrics: [B.sum("d", delta: true, [B.number(5, at: 20)]), B.gauge("x", [B.number(1, at: 20)])]))
        broken.removeLast(4)
        await #expect(throws: IngestError.self) { try await ingester.ingest(broken, into: store.appender(), nowNs: B.nowNs) }
        _ = try await ingest(try B.bytes(B.request(resource: [], metrics: [B.sum("d", delta: true, [B.number(2, at: 30)])])), store, ingester)
        #expect(try stored(store)["d_total{}"] == [1, 3])
    }

    @Test func resourcesThatDifferOnlyInWhereANulIsDoNotShareSeries() async throws {
        let store = ReferenceStore()
        let ingester = OTLPMetricsIngester()
        _ = try await ingest(try B.bytes(B.request(resource: [B.kv("service.name", "x\u{0}instance\u{0}y")], metrics: [B.gauge("g", [B.number(1, at: 1)])])), store, ingester)
        _ = try await ingest(try B.bytes(B.request(resource: [B.kv("service.name", "x"), B.kv("service.instance.id", "y")], metrics: [B.gauge("g", [B.number(2, at: 1)])])), store, ingester)
        #expect(try stored(store)["g{instance=\"y\", job=\"x\"}"] == [2])
    }

    @Test func hugeResourcesAreRejectedQuickly() async throws {
        let store = ReferenceStore()
        let attributes = (0..<100_000).map { B.kv("k\($0)", "v") } + [B.kv("service.name", "s")]
        let result = try await ingest(try B.bytes(B.request(resource: attributes, metrics: [B.gauge("g", [B.number(1, at: 1)])])), store)
        #expect(result.rejectedDataPoints == 1 && result.errorMessage.contains("more than the limit"))
        // A kvlist value with many entries renders in linear time (and is then too long).
        var map = KeyValue()
        map.key = "m"
        map.value.kvlistValue.values = (0..<200_000).map { B.kv("k\($0)", "v") }
        let big = try await ingest(try B.bytes(B.request(resource: [], metrics: [B.gauge("h", [B.number(1, at: 1, attributes: [map])])])), store)
        #expect(big.rejectedDataPoints == 1 && big.errorMessage.contains("longer than"))
    }

    @Test func attributeValuesAsPdataRendersThem() async throws {
        let store = ReferenceStore()
        var nan = KeyValue()
        nan.key = "nan"
        nan.value.doubleValue = .nan
        var negativeZero = KeyValue()
        negativeZero.key = "zero"
        negativeZero.value.doubleValue = -0.0
        var list = KeyValue()
        list.key = "list"
        var element = Opentelemetry_Proto_Common_V1_AnyValue()
        element.doubleValue = .infinity
        list.value.arrayValue.values = [element]
        _ = try await ingest(try B.bytes(B.request(resource: [B.kv("service.name", "n"), B.kv("service.namespace", "")], metrics: [B.gauge("g", [B.number(1, at: 1, attributes: [nan, negativeZero, list])])])), store)
        let labels = try #require(try readAll(store, matchers: [matcher(.equal, "__name__", "g")]).keys.first)
        #expect(labels["nan"] == "json: unsupported value: NaN")
        #expect(labels["zero"] == "-0")
        #expect(labels["list"] == nil)
        #expect(labels["job"] == "/n")
    }

    @Test func aMetricWithItsDataFieldTwiceKeepsBothPoints() async throws {
        let store = ReferenceStore()
        let first: [UInt8] = try B.gauge("g", [B.number(1, at: 1, attributes: [B.kv("a", "1")])]).gauge.serializedBytes()
        let second: [UInt8] = try B.gauge("g", [B.number(2, at: 1, attributes: [B.kv("a", "2")])]).gauge.serializedBytes()
        // Metric{name: "g", gauge: first, gauge: second}: protobuf merges the two messages.
        let metric = OTLPBuild.field(1, Array("g".utf8)) + OTLPBuild.field(5, first) + OTLPBuild.field(5, second)
        let body = OTLPBuild.field(1, OTLPBuild.field(2, OTLPBuild.field(2, metric)))
        let result = try await ingest(body, store)
        #expect(result.dataPoints == 2 && result.rejectedDataPoints == 0)
        #expect(try stored(store).keys.sorted() == ["g{a=\"1\"}", "g{a=\"2\"}"])
    }


}
