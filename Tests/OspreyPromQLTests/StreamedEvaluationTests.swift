import OspreyModel
@testable import OspreyPromQL
import OspreyPromQLParser
import OspreyStorage
import OspreyTestSupport
import Testing

/// Range and instant queries stream range-function inputs and fold aggregations per worker over
/// many series; their results must equal the step-by-step evaluation of instant queries over
/// decoded series.
struct StreamedEvaluationTests {
    /// 300 counters (3 jobs x 100 instances) over 2 h at 15 s, with resets, NaNs, staleness
    /// markers and a gap; enough series for the parallel workers.
    static func makeStore() async throws -> ReferenceStore {
        let store = ReferenceStore()
        let appender = store.appender()
        var generator = SplitMix64(seed: 7)
        for instance in 0..<300 {
            let labels = Labels(["__name__": "c_total", "job": "job\(instance % 3)", "instance": "host\(instance)"])
            var value = 0.0
            for step in 0..<480 where !(instance % 7 == 0 && (200..<260).contains(step)) {
                value += Double(generator.next() % 100)
                if generator.next() % 200 == 0 { value = 0 }
                var sample = value
                if generator.next() % 500 == 0 { sample = .nan }
                if instance % 11 == 0 && step == 300 { sample = StaleMarker.value }
                _ = try appender.append(nil, labels: labels, timestampMs: Int64(step) * 15_000 + Int64(instance), value: sample)
            }
        }
        _ = try await appender.commit()
        return store
    }

    @Test(arguments: [
        "sum by (job) (rate(c_total[5m]))",
        "count by (job) (rate(c_total[2m]))",
        "max by (job) (delta(c_total[3m]))",
        "min without (instance) (irate(c_total[1m]))",
        "group by (job) (changes(c_total[10m]))",
        "sum(increase(c_total[5m] offset 3m))",
        "sum by (job) (rate(c_total[5m] @ 3600))",
        "rate(c_total{instance=~\"host1.\"}[5m])",
        "count(c_total) * 0 + sum(rate(c_total[5m]))",
        "sum by (job) (max_over_time(c_total[10m])) - sum by (job) (min_over_time(c_total[10m]))",
        "max_over_time(c_total{instance=~\"host2.\"}[7m])",
        "sum by (instance) (rate(c_total[5m]))",
        "max by (instance, job) (increase(c_total{instance=~\"host1.*\"}[4m]))",
        "min_over_time(c_total{instance=~\"host(3.|11|22)\"}[3m] offset 1m)",
    ])
    func streamedQueriesEqualTheStepByStepReference(_ query: String) async throws {
        let expr = try PromQLParser.parse(query)
        let store = try await Self.makeStore()
        let engine = PromQLEngine(queryable: store)
        var reference = PromQLEngine(queryable: store)
        reference.streamsSeries = false
        let (start, end, step): (Int64, Int64, Int64) = (600_000, 7_200_000, 120_000)
        let expected = try Self.instantQueries(reference, expr, from: start, through: end, step: step)
        #expect(!expected.isEmpty)
        Self.expectClose(try Self.instantQueries(engine, expr, from: start, through: end, step: step), expected, "instant")
        let range = try engine.rangeQuery(expr, startMs: start, endMs: end, stepMs: step)
        Self.expectClose(Dictionary(uniqueKeysWithValues: range.map { ($0.labels, $0.points) }), expected, "range")
    }

    /// Instant queries at every step, gathered into series.
    static func instantQueries(_ engine: PromQLEngine, _ expr: Expr, from start: Int64, through end: Int64, step: Int64) throws -> [Labels: [Sample]] {
        var out: [Labels: [Sample]] = [:]
        for t in stride(from: start, through: end, by: Int(step)) {
            guard case .vector(let elements) = try engine.instantQuery(expr, atMs: t) else {
                Issue.record("not a vector")
                return [:]
            }
            for element in elements { out[element.labels, default: []].append(Sample(timestampMs: t, value: element.value)) }
        }
        return out
    }

    /// Same series and timestamps; values within 1e-12 relative (NaN equals NaN).
    static func expectClose(_ got: [Labels: [Sample]], _ expected: [Labels: [Sample]], _ what: String) {
        #expect(Set(got.keys) == Set(expected.keys), "\(what): series differ")
        for (labels, points) in got {
            guard let want = expected[labels] else { continue }
            #expect(points.map(\.timestampMs) == want.map(\.timestampMs), "\(what): \(labels)")
            for (a, b) in zip(points, want) where !(a.value.isNaN && b.value.isNaN) {
                #expect(abs(a.value - b.value) <= 1e-12 * max(1, abs(b.value)), "\(what): \(labels) at \(a.timestampMs): \(a.value) vs \(b.value)")
            }
        }
    }
}

/// A small deterministic generator for test data.
struct SplitMix64 {
    var state: UInt64

    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
