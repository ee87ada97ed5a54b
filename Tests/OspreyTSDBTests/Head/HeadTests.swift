import OspreyModel
import OspreyStorage
import OspreyTestSupport
@testable import OspreyTSDB
import Synchronization
import Testing

/// The head without a WAL, behind the storage contracts.
struct InMemoryHead: MetricAppendable, MetricQueryable {
    let head: Head

    init(options: TSDBOptions = TSDBOptions()) {
        head = Head(options: options, wal: nil)
    }

    func appender() -> any MetricAppender { head.appender() }

    func querier(minTimeMs: Int64, maxTimeMs: Int64) throws(StorageError) -> any MetricQuerier {
        HeadQuerier(head: head, minTimeMs: minTimeMs, maxTimeMs: maxTimeMs)
    }
}

struct HeadTests {
    @Test(arguments: StorageConformance.all)
    func headPassesStorageConformance(_ check: StorageConformance) async throws {
        try await check.run(InMemoryHead())
    }

    @Test func chunksAreCutEvery120SamplesAndAtRangeBoundaries() async throws {
        let store = InMemoryHead()
        let labels = Labels(["__name__": "m"])
        let appender = store.appender()
        for i in 0..<300 { _ = try appender.append(nil, labels: labels, timestampMs: Int64(i) * 15_000, value: Double(i)) }
        _ = try await appender.commit()
        let series = try #require(store.head.series.series(labels: labels, hash: labels.stableHash))
        let state = series.state.withLock { $0.snapshot() }
        // 300 samples at 15 s span 75 min: chunks of 120, 120, 60, none crossing 2 h boundaries.
        #expect(state.chunks.count == 3)
        let read = try readAll(store, matchers: [matcher(.equal, "__name__", "m")])
        #expect(read[labels]?.count == 300)
        #expect(read[labels]?.last == Sample(timestampMs: 299 * 15_000, value: 299))

        let boundary = InMemoryHead()
        let app2 = boundary.appender()
        let twoHours: Int64 = 7_200_000
        for t in [twoHours - 2000, twoHours - 1000, twoHours, twoHours + 1000] {
            _ = try app2.append(nil, labels: labels, timestampMs: t, value: 1)
        }
        _ = try await app2.commit()
        let chunks = try #require(boundary.head.series.series(labels: labels, hash: labels.stableHash)).state.withLock { $0.snapshot().chunks }
        #expect(chunks.map(\.minTimeMs) == [twoHours - 2000, twoHours])
    }

    @Test func outOfOrderWindowAcceptsLateSamplesAndQueriesMergeThem() async throws {
        var options = TSDBOptions()
        options.outOfOrderTimeWindowMs = 60_000
        let store = InMemoryHead(options: options)
        let labels = Labels(["__name__": "late"])
        let appender = store.appender()
        _ = try appender.append(nil, labels: labels, timestampMs: 100_000, value: 1)
        _ = try await appender.commit()
        _ = try appender.append(nil, labels: labels, timestampMs: 50_000, value: 0.5)
        #expect(throws: StorageError.self) { try appender.append(nil, labels: labels, timestampMs: 10_000, value: 0) }
        _ = try appender.append(nil, labels: labels, timestampMs: 110_000, value: 2)
        _ = try await appender.commit()
        let read = try readAll(store, matchers: [matcher(.equal, "__name__", "late")])
        #expect(read[labels]?.map(\.timestampMs) == [50_000, 100_000, 110_000])
    }

    @Test func bulkAndNewestSampleReadsEqualSampleBySampleReads() async throws {
        var options = TSDBOptions()
        options.outOfOrderTimeWindowMs = 600_000
        let store = InMemoryHead(options: options)
        let plain = Labels(["__name__": "plain"])
        let late = Labels(["__name__": "late"])
        let appender = store.appender()
        for i in 0..<500 {
            let value = i % 97 == 0 ? StaleMarker.value : Double(i) * 1.5
            _ = try appender.append(nil, labels: plain, timestampMs: Int64(i) * 15_000, value: value)
            if i % 2 == 0 { _ = try appender.append(nil, labels: late, timestampMs: Int64(i) * 15_000, value: Double(i)) }
        }
        _ = try await appender.commit()
        _ = try appender.append(nil, labels: late, timestampMs: 7_455_000, value: -1)
        _ = try await appender.commit()
        // Whole range, and ranges cutting chunks (120 samples each) in the middle at both ends.
        for (low, high) in [(Int64.min, Int64.max), (1_000_000, 5_000_000), (1_800_000, 1_800_000), (9_000_000, 9_500_000)] {
            let querier = try store.querier(minTimeMs: low, maxTimeMs: high)
            defer { querier.close() }
            let set = try querier.select(sorted: true, hints: nil, matchers: [matcher(.regexMatch, "__name__", ".+")])
            while let series = try set.next() {
                var expected: [Sample] = []
                let one = series.iterator(reusing: nil)
                while one.next() == .float { expected.append(one.floatSample) }
                var bulk: [Sample] = [Sample(timestampMs: -1, value: 0)]
                #expect(series.iterator(reusing: nil).appendFloats(to: &bulk) == .none)
                #expect(bulk.dropFirst().map(\.timestampMs) == expected.map(\.timestampMs), "\(series.labels) in [\(low), \(high)]")
                #expect(bulk.dropFirst().map(\.value.bitPattern) == expected.map(\.value.bitPattern), "\(series.labels) in [\(low), \(high)]")
                var direct: [Sample] = []
                series.appendFloats(to: &direct)
                #expect(direct.map(\.timestampMs) == expected.map(\.timestampMs) && direct.map(\.value.bitPattern) == expected.map(\.value.bitPattern), "\(series.labels) in [\(low), \(high)]")
                // The newest sample of a window, known or decoded, is the last one read.
                for (after, through) in [(Int64.min, Int64.max), (7_000_000, 7_500_000), (7_455_000, 7_470_000), (7_460_000, 9_000_000), (100_000, 200_000), (0, 1)] {
                    let window = expected.filter { $0.timestampMs > after && $0.timestampMs <= through }
                    #expect(series.newestFloat(after: after, through: through)?.value.bitPattern == window.last?.value.bitPattern, "\(series.labels) in (\(after), \(through)]")
                    #expect(series.newestFloat(after: after, through: through)?.timestampMs == window.last?.timestampMs, "\(series.labels) in (\(after), \(through)]")
                }
            }
        }
    }

    @Test func selectionsComeInLabelOrderAsSeriesAreAdded() async throws {
        let store = InMemoryHead()
        var generator = SystemRandomNumberGenerator()
        for round in 0..<3 {
            let appender = store.appender()
            for index in 0..<50 {
                var labels = ["__name__": ["m", "n", "a\(round)"][index % 3], "instance": "h\(UInt8.random(in: 0...255, using: &generator))", "code": "\(round)\(UInt8.random(in: 0...9, using: &generator))"]
                // A label name sorting before `__name__` (upper case) in the last round.
                if round == 2 && index % 7 == 0 { labels["Zone"] = "z\(index)" }
                _ = try appender.append(nil, labels: Labels(labels), timestampMs: Int64(round) * 1000, value: 1)
            }
            _ = try await appender.commit()
            for matchers in [
                [matcher(.equal, "__name__", "m")], [matcher(.equal, "__name__", "m"), matcher(.regexMatch, "code", "[01].")], [matcher(.regexMatch, "__name__", "m")],
                [matcher(.regexMatch, "__name__", ".+")], [matcher(.regexMatch, "__name__", "a.|n"), matcher(.notEqual, "code", "00")],
            ] {
                let querier = try store.querier(minTimeMs: .min, maxTimeMs: .max)
                let set = try querier.select(sorted: true, hints: nil, matchers: matchers)
                var order: [Labels] = []
                while let series = try set.next() { order.append(series.labels) }
                querier.close()
                #expect(order.count > 0 && order == order.sorted(by: <), "round \(round), \(matchers)")
            }
        }
    }

    @Test func inBatchDisorderIsRejected() async throws {
        let store = InMemoryHead()
        let labels = Labels(["__name__": "m"])
        let appender = store.appender()
        _ = try appender.append(nil, labels: labels, timestampMs: 2000, value: 1)
        #expect(throws: StorageError.self) { try appender.append(nil, labels: labels, timestampMs: 1000, value: 1) }
        _ = try appender.append(nil, labels: labels, timestampMs: 2000, value: 1)
        let summary = try await appender.commit()
        #expect(summary.floatSamples == 1)
    }

    @Test func seriesRefsAreReusable() async throws {
        let store = InMemoryHead()
        let appender = store.appender()
        let ref = try appender.append(nil, labels: Labels(["__name__": "x"]), timestampMs: 1, value: 1)
        let again = try appender.append(ref, labels: .empty, timestampMs: 2, value: 2)
        #expect(ref == again)
        #expect(throws: StorageError.self) { try appender.append(SeriesRef(999), labels: .empty, timestampMs: 3, value: 3) }
        _ = try await appender.commit()
        #expect(store.head.series.seriesCount == 1)
    }

    @Test func concurrentAppendersNeverLoseAcknowledgedSamples() async throws {
        let store = InMemoryHead()
        try await withThrowingTaskGroup(of: Void.self) { group in
            for worker in 0..<8 {
                group.addTask {
                    for batch in 0..<50 {
                        let appender = store.appender()
                        for series in 0..<20 {
                            let labels = Labels(["__name__": "c", "s": String(series)])
                            _ = try? appender.append(nil, labels: labels, timestampMs: Int64(batch * 8 + worker), value: Double(worker))
                        }
                        _ = try await appender.commit()
                    }
                }
            }
            try await group.waitForAll()
        }
        let read = try readAll(store, matchers: [matcher(.equal, "__name__", "c")])
        #expect(read.count == 20)
        for samples in read.values {
            #expect(samples.map(\.timestampMs) == samples.map(\.timestampMs).sorted())
            #expect(Set(samples.map(\.timestampMs)).count == samples.count)
        }
    }

    @Test func statisticsCountSeriesAndLabelPairs() async throws {
        let store = InMemoryHead()
        let appender = store.appender()
        for code in ["200", "500"] {
            _ = try appender.append(nil, labels: Labels(["__name__": "req", "code": code]), timestampMs: 1, value: 1)
        }
        _ = try appender.append(nil, labels: Labels(["__name__": "up"]), timestampMs: 1, value: 1)
        _ = try await appender.commit()
        let stats = store.head.statistics(limit: 10)
        #expect(stats.numSeries == 3)
        #expect(stats.seriesCountByMetricName.first == HeadStatistics.Entry(name: "req", value: 2))
        #expect(stats.labelValueCountByLabelName.contains(HeadStatistics.Entry(name: "code", value: 2)))
        #expect(stats.minTimeMs == 1)
    }
}
