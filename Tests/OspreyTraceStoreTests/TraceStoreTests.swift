import Foundation
import Logging
import OspreyModel
import OspreyStorage
import OspreyTraceStore
import Testing

struct TraceStoreTests {
    static let second: UInt64 = 1_000_000_000
    static let t0: UInt64 = 1_767_225_600 * second

    func temporaryDirectory() -> String {
        let path = NSTemporaryDirectory() + "osprey-traces-" + UUID().uuidString
        try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    func span(_ trace: UInt64, _ id: UInt64, parent: UInt64 = 0, service: String, name: String, kind: SpanKind = .server,
              start: UInt64, duration: UInt64, attributes: [Attribute] = [], status: SpanStatus = SpanStatus()) -> SpanRecord {
        SpanRecord(
            traceID: TraceID(high: 0xAB, low: trace), spanID: SpanID(id), parentSpanID: SpanID(parent), name: name, kind: kind,
            startTimeUnixNano: Self.t0 + start, endTimeUnixNano: Self.t0 + start + duration, attributes: attributes,
            events: [SpanEvent(timeUnixNano: Self.t0 + start + 1, name: "log", attributes: [Attribute("event.key", .string("v"))])],
            links: [SpanLink(traceID: TraceID(high: 1, low: 2), spanID: SpanID(3), attributes: [Attribute("l", .bool(true))])],
            status: status,
            resource: Resource(attributes: [Attribute("service.name", .string(service)), Attribute("host.name", .string("h-\(service)"))]),
            scope: InstrumentationScope(name: "lib", version: "2"))
    }

    var sample: [SpanRecord] {
        [
            span(1, 10, service: "frontend", name: "GET /", start: 0, duration: 900 * 1_000_000,
                 attributes: [Attribute("http.status_code", .int(200)), Attribute("http.method", .string("GET"))]),
            span(1, 11, parent: 10, service: "backend", name: "SELECT", kind: .client, start: 100, duration: 50 * 1_000_000,
                 attributes: [Attribute("db.system", .string("postgresql")), Attribute("nested", .map([Attribute("a", .array([.double(1.5), .bytes([1, 2])]))]))],
                 status: SpanStatus(code: .error, message: "timeout")),
            span(2, 20, service: "frontend", name: "POST /pay", start: Self.second, duration: 5 * 1_000_000,
                 attributes: [Attribute("http.status_code", .int(500))]),
        ]
    }

    @Test func spansSurviveARestartExactly() async throws {
        let directory = temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let store = try TraceStore.open(directory: directory, logger: Logger(label: "test"))
        #expect(try await store.write(sample).spans == 3)
        #expect(try store.trace(TraceID(high: 0xAB, low: 1)) == Array(sample[0...1]))
        store.close()
        let reopened = try TraceStore.open(directory: directory, logger: Logger(label: "test"))
        #expect(try reopened.trace(TraceID(high: 0xAB, low: 1)) == Array(sample[0...1]))
        #expect(try reopened.trace(TraceID(high: 0xAB, low: 2)) == [sample[2]])
        #expect(try reopened.trace(TraceID(high: 0xAB, low: 3)).isEmpty)
        #expect(try reopened.services() == ["backend", "frontend"])
        #expect(try reopened.operations(service: "frontend", kind: nil) == [TraceOperation(name: "GET /", kind: .server), TraceOperation(name: "POST /pay", kind: .server)])
        #expect(try reopened.operations(service: "backend", kind: .server).isEmpty)
    }

    @Test func aTornLastRecordIsCutOffAndTheRestKept() async throws {
        let directory = temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let store = try TraceStore.open(directory: directory, logger: Logger(label: "test"))
        _ = try await store.write([sample[0]])
        _ = try await store.write([sample[2]])
        store.close()
        // Tear the last record: drop its final bytes, as a crash mid-write would.
        let segment = directory + "/wal/00000001"
        let data = try Data(contentsOf: URL(fileURLWithPath: segment))
        try data.prefix(data.count - 5).write(to: URL(fileURLWithPath: segment))
        let reopened = try TraceStore.open(directory: directory, logger: Logger(label: "test"))
        #expect(try reopened.trace(TraceID(high: 0xAB, low: 1)) == [sample[0]])
        #expect(try reopened.trace(TraceID(high: 0xAB, low: 2)).isEmpty)
        // New writes after the truncated tail are read back after another restart.
        _ = try await reopened.write([sample[2]])
        reopened.close()
        let again = try TraceStore.open(directory: directory, logger: Logger(label: "test"))
        #expect(try again.trace(TraceID(high: 0xAB, low: 2)) == [sample[2]])
    }

    @Test func searchFollowsJaegerSemantics() async throws {
        let directory = temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let store = try TraceStore.open(directory: directory, logger: Logger(label: "test"))
        _ = try await store.write(sample)
        let all = TraceQuery(serviceName: "frontend", startTimeMinNanos: Self.t0, startTimeMaxNanos: Self.t0 + 10 * Self.second)
        // Newest first.
        #expect(try store.findTraceIDs(all).map(\.low) == [2, 1])
        var query = all
        query.attributes = [(key: "http.status_code", value: "200")]
        #expect(try store.findTraceIDs(query).map(\.low) == [1])
        // Conditions must hold on one span: frontend spans have no db.system.
        query.attributes = [(key: "db.system", value: "postgresql")]
        #expect(try store.findTraceIDs(query).isEmpty)
        var backend = TraceQuery(serviceName: "backend", startTimeMinNanos: Self.t0, startTimeMaxNanos: Self.t0 + 10 * Self.second)
        backend.attributes = [(key: "error", value: "true"), (key: "span.kind", value: "client"), (key: "host.name", value: "h-backend"), (key: "event.key", value: "v")]
        #expect(try store.findTraceIDs(backend).map(\.low) == [1])
        backend.attributes = []
        backend.durationMinNanos = 60 * 1_000_000
        #expect(try store.findTraceIDs(backend).isEmpty)
        query = all
        query.operationName = "POST /pay"
        query.limit = 1
        #expect(try store.findTraceIDs(query).map(\.low) == [2])
        query.operationName = nil
        query.startTimeMaxNanos = Self.t0 + 10
        #expect(try store.findTraceIDs(query).map(\.low) == [1])
        #expect(try store.dependencies(startNanos: Self.t0, endNanos: Self.t0 + 10 * Self.second) == [DependencyLink(parent: "frontend", child: "backend", callCount: 1)])
    }
}

struct TraceBlockTests {
    typealias T = TraceStoreTests
    let helper = TraceStoreTests()

    @Test func aCutHeadIsReadFromItsBlockBeforeAndAfterARestart() async throws {
        let directory = helper.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let store = try TraceStore.open(directory: directory, logger: Logger(label: "test"))
        let sample = helper.sample
        _ = try await store.write(sample)
        try store.cut()
        #expect(store.blockCount == 1 && store.headSpanCount == 0)
        // A later span of trace 1 arrives in the head: the trace is read from both.
        let late = helper.span(1, 12, parent: 11, service: "backend", name: "late", start: 500, duration: 1)
        _ = try await store.write([late])
        #expect(try store.trace(TraceID(high: 0xAB, low: 1)) == [sample[0], sample[1], late])
        #expect(try store.trace(TraceID(high: 0xAB, low: 2)) == [sample[2]])
        #expect(try store.services() == ["backend", "frontend"])
        #expect(try store.operations(service: "backend", kind: nil).map(\.name) == ["SELECT", "late"])
        // The WAL segments the block covers are gone; a restart reads each span once.
        store.close()
        let reopened = try TraceStore.open(directory: directory, logger: Logger(label: "test"))
        #expect(try reopened.trace(TraceID(high: 0xAB, low: 1)) == [sample[0], sample[1], late])
        #expect(reopened.blockCount == 1 && reopened.headSpanCount == 1)
    }

    @Test func blockSearchUsesPostingsAndStillChecksEverySpan() async throws {
        let directory = helper.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let store = try TraceStore.open(directory: directory, logger: Logger(label: "test"))
        _ = try await store.write(helper.sample)
        try store.cut()
        let all = TraceQuery(serviceName: "frontend", startTimeMinNanos: T.t0, startTimeMaxNanos: T.t0 + 10 * T.second)
        #expect(try store.findTraceIDs(all).map(\.low) == [2, 1])
        var query = all
        query.attributes = [(key: "http.status_code", value: "500")]  // indexed
        #expect(try store.findTraceIDs(query).map(\.low) == [2])
        query.attributes = [(key: "host.name", value: "h-frontend"), (key: "http.method", value: "GET")]  // resource, indexed
        #expect(try store.findTraceIDs(query).map(\.low) == [1])
        var backend = TraceQuery(serviceName: "backend", operationName: "SELECT", spanKind: .client, startTimeMinNanos: T.t0, startTimeMaxNanos: T.t0 + 10 * T.second)
        backend.attributes = [(key: "error", value: "true"), (key: "db.system", value: "postgresql")]
        #expect(try store.findTraceIDs(backend).map(\.low) == [1])
        backend.spanKind = .server
        #expect(try store.findTraceIDs(backend).isEmpty)
        query = all
        query.limit = 1
        #expect(try store.findTraceIDs(query).map(\.low) == [2])
        #expect(try store.dependencies(startNanos: T.t0, endNanos: T.t0 + 10 * T.second) == [DependencyLink(parent: "frontend", child: "backend", callCount: 1)])
    }

    @Test func headsAreCutByAgeAndSizeAndRetentionDeletesOldBlocks() async throws {
        let directory = helper.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        var options = TraceStoreOptions()
        options.blockDurationNanos = 60 * T.second
        options.retentionNanos = 3650 * 24 * 3600 * T.second
        let store = try TraceStore.open(directory: directory, options: options, logger: Logger(label: "test"))
        _ = try await store.write(helper.sample)
        let now = UInt64(Date().timeIntervalSince1970 * 1e9)
        try store.maintain(nowNanos: now)
        #expect(store.blockCount == 0)
        try store.maintain(nowNanos: now + 61 * T.second)
        #expect(store.blockCount == 1)
        // By size: a head past the byte bound is cut whatever its age.
        var small = options
        small.headMaxBytes = 1
        _ = try await store.write([helper.span(3, 30, service: "frontend", name: "x", start: 0, duration: 1)])
        store.close()
        let bySize = try TraceStore.open(directory: directory, options: small, logger: Logger(label: "test"))
        try bySize.maintain(nowNanos: now)
        #expect(bySize.blockCount == 2 && bySize.headSpanCount == 0)
        bySize.close()
        // The spans ended in 2026-01: an hour's retention deletes both blocks.
        var shortRetention = options
        shortRetention.retentionNanos = 3600 * T.second
        let retained = try TraceStore.open(directory: directory, options: shortRetention, logger: Logger(label: "test"))
        try retained.maintain(nowNanos: now)
        #expect(retained.blockCount == 0)
        #expect(try retained.trace(TraceID(high: 0xAB, low: 1)).isEmpty)
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory + "/blocks").isEmpty)
    }
}
