@testable import OspreyIngest
import OspreyModel
import OspreyStorage
import OspreyTestSupport
import Testing

struct RemoteReadTests {
    @Test func decodesAReadRequestMadeByTheReferenceImplementation() throws {
        let body = try RemoteWriteDecoder.decompress(try fixture("read_request.pb.snappy"), maxDecodedBytes: 1 << 20)
        let request = try body.withUnsafeBytes { bytes throws(IngestError) in try RemoteRead.decodeRequest(bytes) }
        let query = try #require(request.queries.first)
        #expect(query.startTimestampMs == 1000)
        #expect(query.endTimestampMs == 2000)
        #expect(query.matchers.map(\.description) == ["__name__=\"up\"", "job=~\"n.*\"", "instance!~\"x\""])
        #expect(request.acceptsSamples)
    }

    @Test func encodesTheResponseByteForByteLikeTheReferenceImplementation() async throws {
        let store = ReferenceStore()
        let appender = store.appender()
        let data: [(Labels, [(Int64, Double)])] = [
            (Labels(["__name__": "http_requests_total", "job": "api", "code": "200"]), [(1_700_000_000_000, 1), (1_700_000_015_000, 7.5)]),
            (Labels(["__name__": "up", "instance": "10.0.0.1:9100", "job": "node"]), [(1_700_000_000_000, 1)]),
        ]
        for (labels, samples) in data {
            for (t, v) in samples { _ = try appender.append(nil, labels: labels, timestampMs: t, value: v) }
        }
        _ = try await appender.commit()
        let query = RemoteReadQuery(startTimestampMs: 0, endTimestampMs: 2_000_000_000_000, matchers: [matcher(.regexMatch, "job", ".+")])
        let encoded = try RemoteRead.execute(RemoteReadRequest(queries: [query], acceptedResponseTypes: [0]), on: store, maxSamples: 0)
        #expect(encoded == (try fixture("read_response.pb")))
        #expect(throws: StorageError.self) {
            try RemoteRead.execute(RemoteReadRequest(queries: [query], acceptedResponseTypes: []), on: store, maxSamples: 2)
        }
    }
}
