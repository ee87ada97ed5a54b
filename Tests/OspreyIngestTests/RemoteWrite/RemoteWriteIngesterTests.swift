import OspreyIngest
import OspreyModel
import OspreyStorage
import OspreyTestSupport
import Testing

struct RemoteWriteIngesterTests {
    private func series(_ labels: [String: String], _ samples: [(Int64, Double)]) -> RemoteTimeSeries {
        RemoteTimeSeries(
            labels: Labels(sortingKeepingDuplicates: labels.map { Label(name: $0.key, value: $0.value) }),
            samples: samples.map { Sample(timestampMs: $0.0, value: $0.1) })
    }

    @Test func validRequestsAreStored() async throws {
        let store = ReferenceStore()
        let request = RemoteWriteRequest(timeseries: [series(["__name__": "a", "job": "x"], [(1, 1), (2, 2)]), series(["__name__": "b"], [(1, 5)])])
        let result = try await RemoteWriteIngester().ingest(request, into: store.appender())
        #expect(result.samplesWritten == 3)
        #expect(result.rejectionSummary == nil)
        #expect(try readAll(store, matchers: [matcher(.equal, "__name__", "a")]).values.first?.count == 2)
    }

    @Test(arguments: [
        ["__name__": "ok", "": "x"],
        ["__name__": "bad name", "job": "x"],
        ["__name__": "ok", "9job": "x"],
    ])
    func anInvalidSeriesRejectsTheWholeRequestUnderLegacyNames(_ labels: [String: String]) async throws {
        let store = ReferenceStore()
        let request = RemoteWriteRequest(timeseries: [series(["__name__": "good"], [(1, 1)]), series(labels, [(1, 1)])])
        await #expect(throws: IngestError.self) {
            try await RemoteWriteIngester(nameValidation: .legacy).ingest(request, into: store.appender())
        }
        #expect(try readAll(store, matchers: [matcher(.regexMatch, "__name__", ".+")]).isEmpty)
    }

    @Test func duplicateLabelNamesAndOversizeValuesAreRejected() async throws {
        let store = ReferenceStore()
        let duplicate = RemoteTimeSeries(labels: Labels(sortingKeepingDuplicates: [Label(name: "__name__", value: "x"), Label(name: "a", value: "1"), Label(name: "a", value: "2")]), samples: [Sample(timestampMs: 1, value: 1)])
        await #expect(throws: IngestError.self) {
            try await RemoteWriteIngester().ingest(RemoteWriteRequest(timeseries: [duplicate]), into: store.appender())
        }
        var limits = RemoteWriteLimits()
        limits.labelValueLengthLimit = 4
        await #expect(throws: IngestError.self) {
            try await RemoteWriteIngester(limits: limits).ingest(RemoteWriteRequest(timeseries: [series(["__name__": "toolong"], [(1, 1)])]), into: store.appender())
        }
    }

    @Test func outOfOrderSamplesAreSkippedCountedAndTheRestCommitted() async throws {
        let store = ReferenceStore()
        _ = try await RemoteWriteIngester().ingest(RemoteWriteRequest(timeseries: [series(["__name__": "m"], [(100, 1)])]), into: store.appender())
        let result = try await RemoteWriteIngester().ingest(
            RemoteWriteRequest(timeseries: [series(["__name__": "m"], [(50, 0), (100, 2), (200, 3)])]), into: store.appender())
        #expect(result.samplesWritten == 1)
        #expect(result.rejected == ["out of order sample": 1, "duplicate sample for timestamp": 1])
        #expect(result.rejectionSummary?.contains("2 samples rejected") == true)
        #expect(try readAll(store, matchers: [matcher(.equal, "__name__", "m")]).values.first?.map(\.timestampMs) == [100, 200])
    }

    @Test func emptyLabelValuesAreDropped() async throws {
        let store = ReferenceStore()
        _ = try await RemoteWriteIngester().ingest(RemoteWriteRequest(timeseries: [series(["__name__": "m", "empty": ""], [(1, 1)])]), into: store.appender())
        #expect(try readAll(store, matchers: [matcher(.equal, "__name__", "m")]).keys.first == Labels(["__name__": "m"]))
    }
}
