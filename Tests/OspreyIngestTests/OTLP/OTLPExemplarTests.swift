import Foundation
import OspreyIngest
import OspreyModel
import OspreyStorage
import OspreyTestSupport
import OspreyWire
import Synchronization
import Testing

/// Stores into a reference store and records exemplars and metadata by series.
final class RecordingAppendable: MetricAppendable, Sendable {
    let store = ReferenceStore()
    let exemplars = Mutex<[Labels: [Exemplar]]>([:])
    let metadata = Mutex<[Labels: MetricMetadata]>([:])
    let labelsByRef = Mutex<[SeriesRef: Labels]>([:])

    func appender() -> any MetricAppender { RecordingAppender(owner: self, inner: store.appender()) }
}

final class RecordingAppender: MetricAppender {
    let owner: RecordingAppendable
    let inner: any MetricAppender

    init(owner: RecordingAppendable, inner: any MetricAppender) {
        self.owner = owner
        self.inner = inner
    }

    func append(_ ref: SeriesRef?, labels: Labels, timestampMs: Int64, value: Double) throws(StorageError) -> SeriesRef {
        let stored = try inner.append(ref, labels: labels, timestampMs: timestampMs, value: value)
        if !labels.isEmpty { owner.labelsByRef.withLock { $0[stored] = labels } }
        return stored
    }

    func appendHistogram(_ ref: SeriesRef?, labels: Labels, timestampMs: Int64, histogram: FloatHistogram) throws(StorageError) -> SeriesRef {
        try inner.appendHistogram(ref, labels: labels, timestampMs: timestampMs, histogram: histogram)
    }

    func appendExemplar(_ ref: SeriesRef?, labels: Labels, exemplar: Exemplar) throws(StorageError) -> SeriesRef {
        let series = labels.isEmpty ? ref.flatMap { ref in owner.labelsByRef.withLock { $0[ref] } } ?? labels : labels
        owner.exemplars.withLock { $0[series, default: []].append(exemplar) }
        return try inner.appendExemplar(ref, labels: labels, exemplar: exemplar)
    }

    func updateMetadata(_ ref: SeriesRef?, labels: Labels, metadata: MetricMetadata) throws(StorageError) -> SeriesRef {
        owner.metadata.withLock { $0[labels] = metadata }
        return try inner.updateMetadata(ref, labels: labels, metadata: metadata)
    }

    func appendStartTimestamp(_ ref: SeriesRef?, labels: Labels, startTimestampMs: Int64, timestampMs: Int64) throws(StorageError) -> SeriesRef {
        try inner.appendStartTimestamp(ref, labels: labels, startTimestampMs: startTimestampMs, timestampMs: timestampMs)
    }

    func commit() async throws(StorageError) -> AppendSummary { try await inner.commit() }
    func rollback() { inner.rollback() }
}

struct OTLPExemplarTests {
    typealias B = OTLPBuild

    func exemplar(_ value: Double, trace: UInt8) -> Opentelemetry_Proto_Metrics_V1_Exemplar {
        var exemplar = Opentelemetry_Proto_Metrics_V1_Exemplar()
        exemplar.asDouble = value
        exemplar.traceID = Data(repeating: trace, count: 16)
        exemplar.spanID = Data(repeating: trace, count: 8)
        return exemplar
    }

    @Test func exemplarsGoOnSumsAndTheMatchingBucketNotOnGauges() async throws {
        let target = RecordingAppendable()
        var counter = B.number(5, at: 1)
        counter.exemplars = [exemplar(1, trace: 1)]
        var gauge = B.number(5, at: 1)
        gauge.exemplars = [exemplar(1, trace: 2)]
        var histogram = B.histogramPoint(at: 1, bounds: [0.1, 1], counts: [1, 1, 1], sum: 3)
        histogram.exemplars = [exemplar(0.05, trace: 3), exemplar(0.5, trace: 4), exemplar(7, trace: 5)]
        let request = B.request(resource: [B.kv("service.name", "s")], metrics: [
            B.sum("hits", [counter]), B.gauge("level", help: "The level", [gauge]), B.histogram("latency", unit: "s", [histogram]),
        ])
        let result = try await OTLPMetricsIngester().ingest(B.bytes(request), into: target.appender(), nowNs: B.nowNs)
        #expect(result.exemplarsWritten == 4)
        let byName = target.exemplars.withLock { stored in
            Dictionary(uniqueKeysWithValues: stored.map { ($0.key.description, $0.value.map { $0.labels["trace_id"] ?? "" }) })
        }
        #expect(byName["hits_total{job=\"s\"}"] == [String(repeating: "01", count: 16)])
        #expect(byName["latency_seconds_bucket{job=\"s\", le=\"0.1\"}"] == [String(repeating: "03", count: 16)])
        #expect(byName["latency_seconds_bucket{job=\"s\", le=\"1\"}"] == [String(repeating: "04", count: 16)])
        #expect(byName["latency_seconds_bucket{job=\"s\", le=\"+Inf\"}"] == [String(repeating: "05", count: 16)])
        #expect(byName.count == 4)
        // Exemplars without their own time take the point's.
        let stored = target.exemplars.withLock { $0.values.flatMap { $0 } }
        #expect(stored.allSatisfy { $0.timestampMs == Int64((B.nowNs - 3600 * B.second + B.second) / 1_000_000) })
    }

    @Test func metadataHasTypeUnitAndHelp() async throws {
        let target = RecordingAppendable()
        let request = B.request(resource: [B.kv("service.name", "s"), B.kv("host.name", "h")], metrics: [
            B.gauge("level", unit: "By", help: "The level", [B.number(1, at: 1)]),
            B.sum("hits", unit: "1/s", [B.number(1, at: 1)]),
        ])
        _ = try await OTLPMetricsIngester().ingest(B.bytes(request), into: target.appender(), nowNs: B.nowNs)
        let metadata = target.metadata.withLock { stored in Dictionary(uniqueKeysWithValues: stored.map { ($0.key.metricName ?? "", $0.value) }) }
        #expect(metadata["level_bytes"] == MetricMetadata(type: .gauge, unit: "bytes", help: "The level"))
        #expect(metadata["hits_per_second_total"] == MetricMetadata(type: .counter, unit: "per_second", help: ""))
        #expect(metadata["target_info"] == MetricMetadata(type: .gauge, help: "Target metadata"))
    }
}

struct OTLPReceiverTests {
    typealias B = OTLPBuild

    @Test func overloadAndSizeOutcomes() async throws {
        let store = ReferenceStore()
        let admission = OTLPAdmission(limitBytes: 100)
        let receiver = OTLPReceiver(appendable: store, admission: admission, maxMessageBytes: 1000)
        let message = try B.bytes(B.request(metrics: [B.gauge("g", [B.number(1, at: 1)])]))
        // Something else is in flight and the bound is reached: retry later.
        #expect(admission.admit(90))
        guard case .unavailable(_, let seconds) = await receiver.exportMetrics(message) else {
            Issue.record("expected unavailable")
            return
        }
        #expect(seconds > 0)
        admission.release(90)
        guard case .stored(let result) = await receiver.exportMetrics(message) else {
            Issue.record("expected stored")
            return
        }
        #expect(result.samplesWritten == 1 && admission.bytesInFlight == 0)
        guard case .tooLarge = await receiver.exportMetrics([UInt8](repeating: 0, count: 1001)) else {
            Issue.record("expected too large")
            return
        }
        guard case .invalid(let message) = await receiver.exportMetrics([0x0a, 0xff]) else {
            Issue.record("expected invalid")
            return
        }
        #expect(message.contains("protobuf"))
    }

    @Test func updatedOptionsApplyToLaterRequests() async throws {
        let store = ReferenceStore()
        let receiver = OTLPReceiver(appendable: store)
        var options = OTLPOptions()
        options.translationStrategy = .noTranslation
        receiver.update(options: options)
        _ = await receiver.exportMetrics(try B.bytes(B.request(resource: [], metrics: [B.gauge("a.b", [B.number(1, at: 1)])])))
        #expect(try readAll(store, matchers: [matcher(.equal, "__name__", "a.b")]).count == 1)
    }
}
