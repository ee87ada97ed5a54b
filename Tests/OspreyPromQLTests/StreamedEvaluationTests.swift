import OspreyModel
@testable import OspreyPromQL
import OspreyPromQLParser
import OspreyStorage
import OspreyTestSupport
import Testing

/// Range queries stream range-function inputs and fold aggregations per worker over many
/// series; their results must equal the step-by-step evaluation of instant queries.
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
    ])
    func rangeQueriesEqualInstantQueries(_ query: String) async throws {
        let expr = try PromQLParser.parse(query)
        let engine = PromQLEngine(queryable: try await Self.makeStore())
        let (start, end, step): (Int64, Int64, Int64) = (600_000, 7_200_000, 60_000)
        let range = try engine.rangeQuery(expr, startMs: start, endMs: end, stepMs: step)
        var expected: [Labels: [Sample]] = [:]
        for t in stride(from: start, through: end, by: Int(step)) {
            guard case .vector(let elements) = try engine.instantQuery(expr, atMs: t) else {
                Issue.record("not a vector")
                return
            }
            for element in elements { expected[element.labels, default: []].append(Sample(timestampMs: t, value: element.value)) }
        }
        #expect(!range.isEmpty && range.count == expected.count)
        for series in range {
            let want = try #require(expected[series.labels], "\(series.labels) not in the instant results")
            #expect(series.points.map(\.timestampMs) == want.map(\.timestampMs), "\(series.labels)")
            for (got, wanted) in zip(series.points, want) where !(got.value.isNaN && wanted.value.isNaN) {
                let scale = max(1, abs(wanted.value))
                #expect(abs(got.value - wanted.value) <= 1e-12 * scale, "\(series.labels) at \(got.timestampMs): \(got.value) vs \(wanted.value)")
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
