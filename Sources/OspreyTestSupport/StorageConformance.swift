package import OspreyModel
package import OspreyStorage

/// A store under test: anything that implements both metric contracts.
package typealias ConformanceStore = MetricAppendable & MetricQueryable

/// The storage conformance suite: the behaviour every metric engine must share with
/// ``ReferenceStore`` (Prometheus' semantics for appends, ordering, matchers and label queries).
/// Each check throws ``ConformanceFailure`` describing the first difference.
package struct StorageConformance: Sendable, CustomStringConvertible {
    /// The check's name.
    package let name: String
    /// Runs the check against a fresh, empty store.
    package let run: @Sendable (any ConformanceStore) async throws -> Void

    package var description: String { name }

    /// Every check.
    package static let all: [StorageConformance] = [
        StorageConformance(name: "committed samples read back bit-exact", run: samplesRoundTrip),
        StorageConformance(name: "uncommitted and rolled-back writes are invisible", run: visibility),
        StorageConformance(name: "out-of-order and duplicate samples follow Prometheus", run: ordering),
        StorageConformance(name: "matchers follow Prometheus semantics", run: matcherSemantics),
        StorageConformance(name: "label names and values honour matchers", run: labelQueries),
        StorageConformance(name: "queries honour the time range", run: timeRange),
    ]

    private static let a = Labels(["__name__": "http_requests_total", "job": "api", "code": "200"])
    private static let b = Labels(["__name__": "http_requests_total", "job": "api", "code": "500"])
    private static let c = Labels(["__name__": "up", "job": "db"])
    private static let d = Labels(["__name__": "up", "job": "api", "env": ""])

    private static func write(_ store: any ConformanceStore, _ samples: [(Labels, Int64, Double)]) async throws {
        let appender = store.appender()
        for (labels, time, value) in samples { _ = try appender.append(nil, labels: labels, timestampMs: time, value: value) }
        _ = try await appender.commit()
    }

    private static func expect(_ condition: Bool, _ message: @autoclosure () -> String) throws {
        if !condition { throw ConformanceFailure(message: message()) }
    }

    private static func samplesRoundTrip(_ store: any ConformanceStore) async throws {
        let values: [Double] = [1, -0.0, .infinity, -.infinity, .nan, StaleMarker.value, Double(bitPattern: 0x7ff8_0000_0000_00ff), 1e-300, 42.5]
        try await write(store, values.enumerated().map { (a, Int64($0.offset) * 15_000 - 30_000, $0.element) })
        let read = try readAll(store, matchers: [matcher(.equal, "code", "200")])
        let expected = values.enumerated().map { Sample(timestampMs: Int64($0.offset) * 15_000 - 30_000, value: $0.element) }
        try expect(read[a] == expected, "read \(String(describing: read[a])) expected \(expected)")
    }

    private static func visibility(_ store: any ConformanceStore) async throws {
        let appender = store.appender()
        _ = try appender.append(nil, labels: a, timestampMs: 1000, value: 1)
        try expect(try readAll(store, matchers: [matcher(.equal, "job", "api")]).isEmpty, "uncommitted sample is visible")
        appender.rollback()
        try expect(try readAll(store, matchers: [matcher(.equal, "job", "api")]).isEmpty, "rolled-back sample is visible")
        try await write(store, [(a, 2000, 2)])
        try expect(try readAll(store, matchers: [matcher(.equal, "job", "api")])[a] == [Sample(timestampMs: 2000, value: 2)], "committed sample missing")
    }

    private static func ordering(_ store: any ConformanceStore) async throws {
        try await write(store, [(a, 1000, 1), (a, 2000, 2)])
        let appender = store.appender()
        do {
            _ = try appender.append(nil, labels: a, timestampMs: 1500, value: 9)
            throw ConformanceFailure(message: "out-of-order sample accepted")
        } catch let error as StorageError {
            try expect(error.code == .outOfOrderSample, "expected out of order, got \(error.code)")
        }
        do {
            _ = try appender.append(nil, labels: a, timestampMs: 2000, value: 3)
            throw ConformanceFailure(message: "conflicting duplicate accepted")
        } catch let error as StorageError {
            try expect(error.code == .duplicateSampleForTimestamp, "expected duplicate sample for timestamp, got \(error.code)")
        }
        _ = try appender.append(nil, labels: a, timestampMs: 2000, value: 2)
        _ = try appender.append(nil, labels: a, timestampMs: 3000, value: 3)
        _ = try await appender.commit()
        let read = try readAll(store, matchers: [matcher(.equal, "code", "200")])[a] ?? []
        try expect(read.map(\.timestampMs) == [1000, 2000, 3000], "read \(read)")
    }

    private static func matcherSemantics(_ store: any ConformanceStore) async throws {
        try await write(store, [(a, 1000, 1), (b, 1000, 1), (c, 1000, 1), (d, 1000, 1)])
        let cases: [([LabelMatcher], Set<Labels>)] = [
            ([matcher(.equal, "job", "api")], [a, b, d]),
            ([matcher(.notEqual, "job", "api")], [c]),
            ([matcher(.regexMatch, "code", "2..")], [a]),
            ([matcher(.regexMatch, "code", "200|500")], [a, b]),
            ([matcher(.regexMatch, "__name__", "up"), matcher(.notRegexMatch, "job", "d.")], [d]),
            ([matcher(.equal, "__name__", "up"), matcher(.equal, "code", "")], [c, d]),
            ([matcher(.regexMatch, "code", ".*"), matcher(.equal, "job", "db")], [c]),
            ([matcher(.regexMatch, "code", ".+")], [a, b]),
            ([matcher(.notEqual, "code", ""), matcher(.regexMatch, "job", "a.*")], [a, b]),
            ([matcher(.regexMatch, "job", "ap")], []),
            ([matcher(.equal, "__name__", "http_requests_total"), matcher(.notRegexMatch, "code", "5.*")], [a]),
        ]
        for (matchers, expected) in cases {
            let found = Set(try readAll(store, matchers: matchers).keys)
            try expect(found == expected, "\(matchers) selected \(found.map(\.description).sorted()), expected \(expected.map(\.description).sorted())")
        }
    }

    private static func labelQueries(_ store: any ConformanceStore) async throws {
        try await write(store, [(a, 1000, 1), (b, 1000, 1), (c, 1000, 1)])
        let querier = try store.querier(minTimeMs: .min, maxTimeMs: .max)
        defer { querier.close() }
        try expect(try querier.labelNames(matchers: [], limit: 0) == ["__name__", "code", "job"], "label names")
        try expect(try querier.labelNames(matchers: [matcher(.equal, "job", "db")], limit: 0) == ["__name__", "job"], "label names with matcher")
        try expect(try querier.labelValues("job", matchers: [], limit: 0) == ["api", "db"], "label values")
        try expect(try querier.labelValues("code", matchers: [matcher(.equal, "job", "api")], limit: 1) == ["200"], "label values with limit")
        try expect(try querier.labelValues("missing", matchers: [], limit: 0).isEmpty, "values of a missing label")
    }

    private static func timeRange(_ store: any ConformanceStore) async throws {
        try await write(store, [(a, 1000, 1), (a, 2000, 2), (a, 3000, 3), (c, 5000, 1)])
        let read = try readAll(store, matchers: [matcher(.regexMatch, "job", ".+")], minTimeMs: 1500, maxTimeMs: 3000)
        try expect(read == [a: [Sample(timestampMs: 2000, value: 2), Sample(timestampMs: 3000, value: 3)]], "range read \(read)")
        let later = try readAll(store, matchers: [matcher(.regexMatch, "job", ".+")], minTimeMs: 4000, maxTimeMs: 6000)
        try expect(Set(later.keys) == [c], "series outside the range were selected: \(later.keys)")
    }
}

/// A difference between a store and the expected behaviour.
package struct ConformanceFailure: Error, CustomStringConvertible {
    /// What differed.
    package var message: String
    package var description: String { message }
}
