import Foundation
import OspreyIngest
import OspreyModel
import OspreyStorage
import OspreyTestSupport
import OspreyWire
import SwiftProtobuf
import Testing

/// Hand-built OTLP requests for every point type and translation rule, checked against the
/// series and values Prometheus 3's OTLP receiver would store.
struct OTLPMetricsTranslationTests {
    typealias B = OTLPBuild
    static let base: Int64 = Int64((B.nowNs - 3600 * B.second) / 1_000_000)

    @discardableResult
    func ingest(_ request: MetricsRequest, _ store: ReferenceStore, _ ingester: OTLPMetricsIngester = OTLPMetricsIngester()) async throws -> OTLPMetricsResult {
        try await ingester.ingest(B.bytes(request), into: store.appender(), nowNs: B.nowNs)
    }

    /// Every stored series as `name{labels}` → values.
    func stored(_ store: ReferenceStore) throws -> [String: [Double]] {
        var out: [String: [Double]] = [:]
        for (labels, samples) in try readAll(store, matchers: [matcher(.regexMatch, "__name__", ".+")]) {
            out[labels.description] = samples.map(\.value)
        }
        return out
    }

    func timestamps(_ store: ReferenceStore, _ name: String) throws -> [Int64] {
        try readAll(store, matchers: [matcher(.equal, "__name__", name)]).values.first?.map { $0.timestampMs - Self.base } ?? []
    }

    @Test func gaugeWithResourceIdentityAndTargetInfo() async throws {
        let store = ReferenceStore()
        let request = B.request(
            resource: [B.kv("service.name", "checkout"), B.kv("service.namespace", "shop"), B.kv("service.instance.id", "i-1"),
                       B.kv("host.name", "web-1"), B.kv("deployment.environment", "prod")],
            metrics: [B.gauge("challenges", [B.number(7, at: 10, attributes: [B.kv("http.method", "GET")])])])
        let result = try await ingest(request, store)
        #expect(result.dataPoints == 1 && result.rejectedDataPoints == 0)
        let series = try stored(store)
        #expect(series["challenges{http_method=\"GET\", instance=\"i-1\", job=\"shop/checkout\"}"] == [7])
        #expect(series["target_info{deployment_environment=\"prod\", host_name=\"web-1\", instance=\"i-1\", job=\"shop/checkout\"}"] == [1])
        #expect(series.count == 2)
    }

    @Test func noTargetInfoWithOnlyIdentifyingAttributesOrWithoutJobAndInstance() async throws {
        let store = ReferenceStore()
        try await ingest(B.request(metrics: [B.gauge("a", [B.number(1, at: 1)])]), store)
        try await ingest(B.request(resource: [B.kv("host.name", "h")], metrics: [B.gauge("b", [B.number(1, at: 1)])]), store)
        #expect(try stored(store).keys.sorted() == ["a{instance=\"i-1\", job=\"checkout\"}", "b{}"])
    }

    @Test func targetInfoEveryHalfLookbackAcrossThePoints() async throws {
        let store = ReferenceStore()
        let request = B.request(
            resource: [B.kv("service.name", "s"), B.kv("host.name", "h")],
            metrics: [B.gauge("g", [B.number(1, at: 0), B.number(2, at: 375)])])
        try await ingest(request, store)
        #expect(try timestamps(store, "target_info") == [0, 150_000, 300_000, 375_000])
    }

    @Test(arguments: [
        ("http.server.duration", "s", "gauge", "http_server_duration_seconds"),
        ("requests", "1", "gauge", "requests_ratio"),
        ("memory", "By", "gauge", "memory_bytes"),
        ("throughput", "By/s", "gauge", "throughput_bytes_per_second"),
        ("queue", "{items}", "gauge", "queue"),
        ("requests", "{request}", "counter", "requests_total"),
        ("requests_total", "", "counter", "requests_total"),
        ("total.requests", "", "counter", "requests_total"),
        ("response_time_seconds", "s", "gauge", "response_time_seconds"),
        ("2xx.count", "", "gauge", "_2xx_count"),
        ("metric__with__multiple__underscores", "unit__multiple__underscores", "gauge", "metric_with_multiple_underscores_unit_multiple_underscores"),
        ("custom_metric", "unit@with#special/chars", "gauge", "custom_metric_unit_with_special_per_chars"),
        ("active", "1", "updown", "active"),
        ("errors", "1", "counter", "errors_total"),
    ])
    func metricNamesWithSuffixes(_ input: (String, String, String, String)) {
        let namer = OTLPNamer(strategy: .underscoreEscapingWithSuffixes)
        let kind: OTLPNamer.MetricKind = input.2 == "counter" ? .monotonicCounter : input.2 == "updown" ? .nonMonotonicCounter : .gauge
        #expect(namer.metricName(input.0, unit: input.1, kind: kind) == input.3)
    }

    @Test func metricNamesInTheOtherStrategies() {
        #expect(OTLPNamer(strategy: .underscoreEscapingWithoutSuffixes).metricName("metric@@##$$name", unit: "s", kind: .gauge) == "metric_name")
        #expect(OTLPNamer(strategy: .underscoreEscapingWithoutSuffixes).metricName("123metric", unit: "", kind: .gauge) == "_123metric")
        #expect(OTLPNamer(strategy: .underscoreEscapingWithoutSuffixes).metricName("a__b", unit: "", kind: .monotonicCounter) == "a__b")
        let utf8 = OTLPNamer(strategy: .noUTF8EscapingWithSuffixes)
        #expect(utf8.metricName("http.request.duration", unit: "ms", kind: .gauge) == "http.request.duration_milliseconds")
        #expect(utf8.metricName("test.counter", unit: "By", kind: .monotonicCounter) == "test.counter_bytes_total")
        #expect(utf8.metricName("foo.seconds", unit: "s", kind: .gauge) == "foo.seconds")
        #expect(utf8.metricName("cpu_seconds_total", unit: "s", kind: .monotonicCounter) == "cpu_seconds_total")
        #expect(utf8.metricName("rate", unit: "By/s", kind: .monotonicCounter) == "rate_bytes_per_second_total")
        #expect(OTLPNamer(strategy: .noTranslation).metricName("Ünïcode.name", unit: "s", kind: .monotonicCounter) == "Ünïcode.name")
        #expect(OTLPNamer(strategy: .underscoreEscapingWithSuffixes).metricName("@#$%", unit: "", kind: .gauge) == nil)
    }

    @Test(arguments: [
        ("label.with.dots", "label_with_dots"), ("123label", "key_123label"), (".foo", "key_foo"), ("_label", "key_label"),
        ("__label_starting_with_2underscores", "__label_starting_with_2underscores"),
        ("label__with__double__underscores", "label__with__double__underscores"),
        ("label_with_foreign_characters_字符", "label_with_foreign_characters___"), ("a:b", "a_b"),
    ])
    func labelNames(_ pair: (String, String)) {
        #expect(OTLPNamer(strategy: .underscoreEscapingWithSuffixes).labelName(pair.0) == pair.1)
    }

    @Test func labelNamesThatAreOnlyUnderscoresAreInvalid() {
        #expect(OTLPNamer(strategy: .underscoreEscapingWithSuffixes).labelName("ようこそ") == nil)
        #expect(OTLPNamer(strategy: .underscoreEscapingWithSuffixes).labelName("") == nil)
        #expect(OTLPNamer(strategy: .noTranslation).labelName("ようこそ") == "ようこそ")
    }

    @Test func attributeValuesOfEveryTypeAndCollidingKeys() async throws {
        let store = ReferenceStore()
        var flag = KeyValue()
        flag.key = "flag"
        flag.value.boolValue = true
        var ratio = KeyValue()
        ratio.key = "ratio"
        ratio.value.doubleValue = 0.25
        var tiny = KeyValue()
        tiny.key = "tiny"
        tiny.value.doubleValue = 1e-7
        var blob = KeyValue()
        blob.key = "blob"
        blob.value.bytesValue = Data([1, 2, 3])
        var list = KeyValue()
        list.key = "list"
        var first = Opentelemetry_Proto_Common_V1_AnyValue()
        first.stringValue = "a<b"
        var second = Opentelemetry_Proto_Common_V1_AnyValue()
        second.intValue = 2
        list.value.arrayValue.values = [first, second]
        var map = KeyValue()
        map.key = "map"
        map.value.kvlistValue.values = [B.kv("z", "1"), B.kv("a", int: 5)]
        let attributes = [B.kv("a-b", "1"), B.kv("a.b", "2"), B.kv("a_b", "3"), B.kv("count", int: -4), flag, ratio, tiny, blob, list, map, B.kv("empty", "")]
        try await ingest(B.request(resource: [], metrics: [B.gauge("g", [B.number(1, at: 1, attributes: attributes)])]), store)
        let labels = try #require(try readAll(store, matchers: [matcher(.equal, "__name__", "g")]).keys.first)
        #expect(labels["a_b"] == "1;2;3")
        #expect(labels["count"] == "-4")
        #expect(labels["flag"] == "true")
        #expect(labels["ratio"] == "0.25")
        #expect(labels["tiny"] == "1e-7")
        #expect(labels["blob"] == "AQID")
        #expect(labels["list"] == "[\"a\\u003cb\",2]")
        #expect(labels["map"] == "{\"a\":5,\"z\":\"1\"}")
        #expect(labels["empty"] == nil)
    }

    @Test func countersUpDownCountersAndUnits() async throws {
        let store = ReferenceStore()
        let request = B.request(metrics: [
            B.sum("http.server.requests", unit: "{request}", [B.number(5, at: 1, attributes: [B.kv("route", "/")])]),
            B.sum("queue.size", unit: "{item}", monotonic: false, [B.number(-2, at: 1)]),
            B.gauge("cpu.utilization", unit: "1", [B.number(0.5, at: 1)]),
        ])
        try await ingest(request, store)
        let series = try stored(store)
        #expect(series["http_server_requests_total{instance=\"i-1\", job=\"checkout\", route=\"/\"}"] == [5])
        #expect(series["queue_size{instance=\"i-1\", job=\"checkout\"}"] == [-2])
        #expect(series["cpu_utilization_ratio{instance=\"i-1\", job=\"checkout\"}"] == [0.5])
    }

    @Test func explicitHistogram() async throws {
        let store = ReferenceStore()
        var point = B.histogramPoint(at: 1, bounds: [0.005, 0.1, 1e6], counts: [1, 2, 3, 4], sum: 123.5)
        point.count = 10
        try await ingest(B.request(resource: [B.kv("service.name", "api")], metrics: [B.histogram("http.server.request.duration", unit: "s", [point])]), store)
        let series = try stored(store)
        let name = "http_server_request_duration_seconds"
        #expect(series["\(name)_bucket{job=\"api\", le=\"0.005\"}"] == [1])
        #expect(series["\(name)_bucket{job=\"api\", le=\"0.1\"}"] == [3])
        #expect(series["\(name)_bucket{job=\"api\", le=\"1000000\"}"] == [6])
        #expect(series["\(name)_bucket{job=\"api\", le=\"+Inf\"}"] == [10])
        #expect(series["\(name)_sum{job=\"api\"}"] == [123.5])
        #expect(series["\(name)_count{job=\"api\"}"] == [10])
        #expect(series.count == 6)
    }

    @Test func histogramWithoutSumHasNoSumSeries() async throws {
        let store = ReferenceStore()
        try await ingest(B.request(resource: [], metrics: [B.histogram("h", [B.histogramPoint(at: 1, bounds: [1], counts: [1, 1], sum: nil)])]), store)
        #expect(try stored(store).keys.sorted() == ["h_bucket{le=\"+Inf\"}", "h_bucket{le=\"1\"}", "h_count{}"])
    }

    @Test func exponentialHistogramBecomesPowerOfTwoBuckets() async throws {
        let store = ReferenceStore()
        var point = ExponentialPoint()
        point.timeUnixNano = B.nowNs - 3600 * B.second + B.second
        point.scale = 1
        // Scale 1: bucket i holds (2^(i/2), 2^((i+1)/2)]; offset 1 → buckets 1, 2, 3, 4.
        point.positive.offset = 1
        point.positive.bucketCounts = [1, 2, 3, 4]
        point.negative.offset = 0
        point.negative.bucketCounts = [5]
        point.zeroCount = 6
        point.count = 21
        point.sum = 42
        try await ingest(B.request(resource: [], metrics: [B.exponential("latency", unit: "ms", [point])]), store)
        let series = try stored(store)
        // Merged to scale 0: i >> 1 → 0, 1, 1, 2 with bounds 2, 4, 4, 8; negative bucket 0 → le -1.
        #expect(series["latency_milliseconds_bucket{le=\"-1\"}"] == [5])
        #expect(series["latency_milliseconds_bucket{le=\"0\"}"] == [11])
        #expect(series["latency_milliseconds_bucket{le=\"2\"}"] == [12])
        #expect(series["latency_milliseconds_bucket{le=\"4\"}"] == [17])
        #expect(series["latency_milliseconds_bucket{le=\"8\"}"] == [21])
        #expect(series["latency_milliseconds_bucket{le=\"+Inf\"}"] == [21])
        #expect(series["latency_milliseconds_sum{}"] == [42])
        #expect(series["latency_milliseconds_count{}"] == [21])
    }

    @Test func deltaExponentialHistogramsKeepEveryPowerOfTwoBetween() async throws {
        let store = ReferenceStore()
        let ingester = OTLPMetricsIngester()
        func point(at second: UInt64, offset: Int32, counts: [UInt64]) -> ExponentialPoint {
            var point = ExponentialPoint()
            point.timeUnixNano = B.nowNs - 3600 * B.second + second * B.second
            point.scale = 0
            point.positive.offset = offset
            point.positive.bucketCounts = counts
            // SDKs send empty negative buckets: they must not create series.
            point.negative.offset = 0
            point.negative.bucketCounts = [0, 0]
            point.count = counts.reduce(0, +)
            point.sum = 1
            return point
        }
        try await ingest(B.request(resource: [], metrics: [B.exponential("e", delta: true, [point(at: 1, offset: -3, counts: [0, 1, 2, 0])])]), store, ingester)
        try await ingest(B.request(resource: [], metrics: [B.exponential("e", delta: true, [point(at: 2, offset: 2, counts: [4])])]), store, ingester)
        let series = try stored(store)
        // Round one: buckets -2, -1 → bounds 0.5, 1; round two: bucket 2 → bound 8; 2 and 4 filled in.
        #expect(series["e_bucket{le=\"0.5\"}"] == [1, 1])
        #expect(series["e_bucket{le=\"1\"}"] == [3, 3])
        #expect(series["e_bucket{le=\"2\"}"] == [3])
        #expect(series["e_bucket{le=\"4\"}"] == [3])
        #expect(series["e_bucket{le=\"8\"}"] == [7])
        #expect(series["e_bucket{le=\"+Inf\"}"] == [3, 7])
        #expect(!series.keys.contains { $0.contains("le=\"-") || $0.contains("le=\"0\"") })
    }

    @Test func summary() async throws {
        let store = ReferenceStore()
        var point = SummaryPoint()
        point.timeUnixNano = B.nowNs - 3600 * B.second + B.second
        point.count = 4
        point.sum = 10
        var q50 = SummaryPoint.ValueAtQuantile()
        q50.quantile = 0.5
        q50.value = 2
        var q1 = SummaryPoint.ValueAtQuantile()
        q1.quantile = 1
        q1.value = 4
        point.quantileValues = [q50, q1]
        try await ingest(B.request(resource: [], metrics: [B.summary("rpc.duration", [point])]), store)
        let series = try stored(store)
        #expect(series["rpc_duration{quantile=\"0.5\"}"] == [2])
        #expect(series["rpc_duration{quantile=\"1\"}"] == [4])
        #expect(series["rpc_duration_sum{}"] == [10])
        #expect(series["rpc_duration_count{}"] == [4])
    }

    @Test func deltaSumsBecomeCumulativeAcrossRequests() async throws {
        let store = ReferenceStore()
        let ingester = OTLPMetricsIngester()
        try await ingest(B.request(resource: [], metrics: [B.sum("hits", delta: true, [B.number(3, at: 10, start: 0)])]), store, ingester)
        try await ingest(B.request(resource: [], metrics: [B.sum("hits", delta: true, [B.number(4, at: 20, start: 10)])]), store, ingester)
        // A resend of an old point overlaps: rejected, the total unchanged.
        let resend = try await ingest(B.request(resource: [], metrics: [B.sum("hits", delta: true, [B.number(4, at: 20, start: 10)])]), store, ingester)
        #expect(resend.rejectedDataPoints == 1)
        #expect(resend.errorMessage.contains("not newer"))
        try await ingest(B.request(resource: [], metrics: [B.sum("hits", delta: true, [B.number(1, at: 30, start: 20)])]), store, ingester)
        #expect(try stored(store)["hits_total{}"] == [3, 7, 8])
    }

    @Test func deltaHistogramsAddUpBucketByBucket() async throws {
        let store = ReferenceStore()
        let ingester = OTLPMetricsIngester()
        try await ingest(B.request(resource: [], metrics: [B.histogram("d", delta: true, [B.histogramPoint(at: 10, bounds: [1, 2], counts: [1, 0, 1], sum: 3)])]), store, ingester)
        try await ingest(B.request(resource: [], metrics: [B.histogram("d", delta: true, [B.histogramPoint(at: 20, bounds: [1, 2], counts: [2, 1, 0], sum: 2.5)])]), store, ingester)
        let series = try stored(store)
        #expect(series["d_bucket{le=\"1\"}"] == [1, 3])
        #expect(series["d_bucket{le=\"2\"}"] == [1, 4])
        #expect(series["d_bucket{le=\"+Inf\"}"] == [2, 5])
        #expect(series["d_sum{}"] == [3, 5.5])
        #expect(series["d_count{}"] == [2, 5])
    }

    @Test func deltaIsRejectedWhenConversionIsOff() async throws {
        let store = ReferenceStore()
        var options = OTLPOptions()
        options.convertDeltaToCumulative = false
        let result = try await ingest(B.request(resource: [], metrics: [B.sum("hits", delta: true, [B.number(3, at: 10)])]), store, OTLPMetricsIngester(options: options))
        #expect(result.rejectedDataPoints == 1)
        #expect(try stored(store).isEmpty)
    }

    @Test func unspecifiedTemporalityIsRejected() async throws {
        let store = ReferenceStore()
        var metric = B.sum("hits", [B.number(3, at: 10)])
        metric.sum.aggregationTemporality = .unspecified
        let result = try await ingest(B.request(resource: [], metrics: [metric, B.gauge("ok", [B.number(1, at: 10)])]), store)
        #expect(result.dataPoints == 2 && result.rejectedDataPoints == 1)
        #expect(result.errorMessage.contains("no aggregation temporality"))
        #expect(try stored(store).keys.sorted() == ["ok{}"])
    }

    @Test func noRecordedValueIsAStaleMarker() async throws {
        let store = ReferenceStore()
        try await ingest(B.request(resource: [], metrics: [B.gauge("g", [B.number(1, at: 1), B.number(0, at: 2, flags: 1)])]), store)
        let values = try #require(try stored(store)["g{}"])
        #expect(values.count == 2)
        #expect(StaleMarker.isStale(values[1]))
    }

    @Test func invalidPointsAreRejectedOneByOne() async throws {
        let store = ReferenceStore()
        var missingTime = B.number(1, at: 1)
        missingTime.timeUnixNano = 0
        let future = B.number(1, at: 3600 + 3600)
        let result = try await ingest(B.request(resource: [], metrics: [B.gauge("g", [missingTime, future, B.number(5, at: 2)])]), store)
        #expect(result.dataPoints == 3)
        #expect(result.rejectedDataPoints == 2)
        #expect(result.errorMessage.contains("time_unix_nano"))
        #expect(result.errorMessage.contains("future"))
        #expect(try stored(store)["g{}"] == [5])
    }

    @Test func outOfOrderSamplesAreCountedAndTheRestStored() async throws {
        let store = ReferenceStore()
        try await ingest(B.request(resource: [], metrics: [B.gauge("g", [B.number(1, at: 10)])]), store)
        let result = try await ingest(B.request(resource: [], metrics: [B.gauge("g", [B.number(2, at: 5)]), B.gauge("h", [B.number(3, at: 5)])]), store)
        #expect(result.rejectedDataPoints == 1)
        #expect(result.errorMessage.contains("out of order"))
        #expect(try stored(store)["h{}"] == [3])
    }

    @Test func promotedResourceAttributesLoseToPointAttributes() async throws {
        let store = ReferenceStore()
        var options = OTLPOptions()
        options.promoteResourceAttributes = ["k8s.pod.name", "region"]
        let request = B.request(
            resource: [B.kv("service.name", "s"), B.kv("k8s.pod.name", "pod-1"), B.kv("region", "eu"), B.kv("other", "x")],
            metrics: [B.gauge("g", [B.number(1, at: 1, attributes: [B.kv("region", "us"), B.kv("job", "ignored")])])])
        try await ingest(request, store, OTLPMetricsIngester(options: options))
        let series = try stored(store)
        #expect(series["g{job=\"s\", k8s_pod_name=\"pod-1\", region=\"us\"}"] == [1])
        #expect(series["target_info{job=\"s\", k8s_pod_name=\"pod-1\", other=\"x\", region=\"eu\"}"] == [1])
    }

    @Test func keepIdentifyingResourceAttributesOnTargetInfo() async throws {
        let store = ReferenceStore()
        var options = OTLPOptions()
        options.keepIdentifyingResourceAttributes = true
        let request = B.request(resource: [B.kv("service.name", "s"), B.kv("host.name", "h")], metrics: [B.gauge("g", [B.number(1, at: 1)])])
        try await ingest(request, store, OTLPMetricsIngester(options: options))
        #expect(try stored(store)["target_info{host_name=\"h\", job=\"s\", service_name=\"s\"}"] == [1])
    }

    @Test func scopeMetadataWhenPromoted() async throws {
        let store = ReferenceStore()
        var options = OTLPOptions()
        options.promoteScopeMetadata = true
        let request = B.request(
            resource: [], scopeName: "io.shop", scopeVersion: "2.0", scopeAttributes: [B.kv("lib.kind", "http")], schemaURL: "https://x/1.0",
            metrics: [B.gauge("g", [B.number(1, at: 1, attributes: [B.kv("otel_scope_name", "mine")])])])
        try await ingest(request, store, OTLPMetricsIngester(options: options))
        #expect(try stored(store).keys.sorted() == [
            "g{otel_scope_lib_kind=\"http\", otel_scope_name=\"io.shop\", otel_scope_schema_url=\"https://x/1.0\", otel_scope_version=\"2.0\"}",
        ])
        let plain = ReferenceStore()
        try await ingest(request, plain)
        #expect(try stored(plain).keys.sorted() == ["g{otel_scope_name=\"mine\"}"])
    }

    @Test func noTranslationKeepsNames() async throws {
        let store = ReferenceStore()
        var options = OTLPOptions()
        options.translationStrategy = .noTranslation
        try await ingest(B.request(resource: [], metrics: [B.sum("http.requests", unit: "s", [B.number(1, at: 1, attributes: [B.kv("http.method", "GET")])])]), store, OTLPMetricsIngester(options: options))
        let labels = try #require(try readAll(store, matchers: [matcher(.regexMatch, "__name__", ".+")]).keys.first)
        #expect(labels.metricName == "http.requests")
        #expect(labels["http.method"] == "GET")
    }

    @Test func knownSeriesAreAppendedByReferenceInLaterRequests() async throws {
        let store = ReferenceStore()
        let ingester = OTLPMetricsIngester()
        for second in [UInt64(1), 2, 3] {
            try await ingest(B.request(metrics: [B.gauge("g", [B.number(Double(second), at: second, attributes: [B.kv("a", "1")])])]), store, ingester)
        }
        #expect(try stored(store)["g{a=\"1\", instance=\"i-1\", job=\"checkout\"}"] == [1, 2, 3])
    }

    @Test func malformedProtobufIsAnError() async throws {
        let store = ReferenceStore()
        var bytes = try B.bytes(B.request(metrics: [B.gauge("g", [B.number(1, at: 1)])]))
        bytes.removeLast(3)
        await #expect(throws: IngestError.self) {
            try await OTLPMetricsIngester().ingest(bytes, into: store.appender(), nowNs: B.nowNs)
        }
        #expect(try stored(store).isEmpty)
    }

    @Test func tooManyDataPointsIsAnError() async throws {
        var limits = OTLPLimits()
        limits.dataPointLimit = 2
        let request = B.request(metrics: [B.gauge("g", [B.number(1, at: 1), B.number(2, at: 2), B.number(3, at: 3)])])
        await #expect(throws: IngestError.self) {
            try await OTLPMetricsIngester(limits: limits).ingest(B.bytes(request), into: ReferenceStore().appender(), nowNs: B.nowNs)
        }
    }

    @Test func exemplarsCarryTraceAndSpanIDsInHex() throws {
        var exemplar = Opentelemetry_Proto_Metrics_V1_Exemplar()
        exemplar.asDouble = 0.25
        exemplar.timeUnixNano = 5_000_000
        exemplar.traceID = Data((0..<16).map { UInt8($0) })
        exemplar.spanID = Data([0xAB, 0xCD, 0, 1, 2, 3, 4, 0xFF])
        exemplar.filteredAttributes = [B.kv("user", "u1")]
        let bytes: [UInt8] = try exemplar.serializedBytes()
        let decoded = try bytes.withUnsafeBytes { try OTLPMetricsDecoding.exemplar($0) }
        #expect(decoded?.value == 0.25)
        #expect(decoded?.timestampMs == 5)
        #expect(decoded?.labels["trace_id"] == "000102030405060708090a0b0c0d0e0f")
        #expect(decoded?.labels["span_id"] == "abcd0001020304ff")
        #expect(decoded?.labels["user"] == "u1")
    }

    @Test func otlpJSONWithHexIDsEnumNumbersAndStringInts() async throws {
        let json = """
        {"resourceMetrics":[{"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"js"}}]},
         "scopeMetrics":[{"scope":{"name":"x"},"metrics":[{"name":"hits","unit":"1","sum":{"aggregationTemporality":2,"isMonotonic":true,
          "dataPoints":[{"asInt":"42","timeUnixNano":"\(B.nowNs - 60 * B.second)",
           "exemplars":[{"asDouble":1,"traceId":"5b8efff798038103d269b633813fc60c","spanId":"eee19b7ec3c1b174"}]}]}},
          {"name":"temp","gauge":{"dataPoints":[{"asDouble":21.5,"timeUnixNano":\(B.nowNs - 60 * B.second),"unknownField":1}]}}]}]}]}
        """
        let protobuf = try OTLPJSON.metricsRequest(Array(json.utf8))
        let request = try MetricsRequest(serializedBytes: protobuf)
        let exemplar = request.resourceMetrics[0].scopeMetrics[0].metrics[0].sum.dataPoints[0].exemplars[0]
        #expect(exemplar.traceID.map { String(format: "%02x", $0) }.joined() == "5b8efff798038103d269b633813fc60c")
        #expect(exemplar.spanID.count == 8)
        let store = ReferenceStore()
        try await OTLPMetricsIngester().ingest(protobuf, into: store.appender(), nowNs: B.nowNs)
        let series = try stored(store)
        #expect(series["hits_total{job=\"js\"}"] == [42])
        #expect(series["temp{job=\"js\"}"] == [21.5])
    }

    @Test func badJSONIsAnError() {
        #expect(throws: IngestError.self) { try OTLPJSON.metricsRequest(Array("{\"resourceMetrics\":[{".utf8)) }
        let badHex = "{\"resourceMetrics\":[{\"scopeMetrics\":[{\"metrics\":[{\"name\":\"a\",\"sum\":{\"dataPoints\":[{\"exemplars\":[{\"traceId\":\"zz8efff798038103d269b633813fc60c\"}]}]}}]}]}]}"
        #expect(throws: IngestError.self) { try OTLPJSON.metricsRequest(Array(badHex.utf8)) }
    }
}
