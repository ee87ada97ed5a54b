import Dispatch
import Foundation
import OspreyModel
import OspreyPromQLParser
import OspreyTestSupport
@testable import OspreyPromQL
import Synchronization
import Testing

struct QuerySchedulerTests {
    @Test func atMostMaxConcurrencyQueriesRunAtOnce() async throws {
        let scheduler = QueryScheduler(maxConcurrency: 2)
        let peak = Peak()
        try await withThrowingTaskGroup(of: Int.self) { group in
            for index in 0..<8 {
                group.addTask {
                    try await scheduler.run(QueryContext()) { () throws(PromQLError) -> Int in
                        peak.enter()
                        usleep(5_000)
                        peak.leave()
                        return index
                    }
                }
            }
            var finished = 0
            for try await _ in group { finished += 1 }
            #expect(finished == 8)
        }
        #expect(peak.most <= 2)
    }

    @Test func aWaitingQueryIsCanceledWithItsTask() async throws {
        let scheduler = QueryScheduler(maxConcurrency: 1)
        let hold = DispatchSemaphore(value: 0)
        let blocker = Task { try await scheduler.run(QueryContext()) { () throws(PromQLError) -> Int in
            hold.wait()
            return 1
        } }
        let waiting = Task { try await scheduler.run(QueryContext()) { () throws(PromQLError) -> Int in 2 } }
        waiting.cancel()
        await #expect(throws: PromQLError.self) { try await waiting.value }
        hold.signal()
        #expect(try await blocker.value == 1)
        // The permit came back: the next query runs.
        #expect(try await scheduler.run(QueryContext()) { () throws(PromQLError) -> Int in 3 } == 3)
    }
}

extension QuerySchedulerTests {
    @Test func preparedQueriesRunInlineOrOffThePoolAndAlwaysReturnTheirPermit() async throws {
        let scheduler = QueryScheduler(maxConcurrency: 1)
        let engine = PromQLEngine(queryable: ReferenceStore())
        let expr = try PromQLParser.parse("vector(1) + 1")
        // Small: evaluated on the caller's thread.
        let small = try await scheduler.run(QueryContext()) { () throws(PromQLError) in try engine.prepareInstantQuery(expr, atMs: 0) }
        #expect(small == .vector([VectorElement(labels: .empty, timestampMs: 0, value: 2)]))
        // Estimated large: evaluated off the cooperative pool, same answer.
        let large = try await scheduler.run(QueryContext()) { () throws(PromQLError) in
            PreparedQuery(estimatedSamples: .max) { () throws(PromQLError) in try engine.instantQuery(expr, atMs: 0) }
        }
        #expect(large == small)
        // A failing selection gives its permit back: the next query still runs.
        await #expect(throws: PromQLError.self) {
            try await scheduler.run(QueryContext()) { () throws(PromQLError) -> PreparedQuery<Int> in
                throw PromQLError(code: .execution, message: "no")
            }
        }
        #expect(try await scheduler.run(QueryContext()) { () throws(PromQLError) -> Int in 3 } == 3)
    }
}

/// The most bodies seen running at once.
private final class Peak: Sendable {
    private let state = Mutex((running: 0, most: 0))

    var most: Int { state.withLock { $0.most } }

    func enter() {
        state.withLock { state in
            state.running += 1
            state.most = max(state.most, state.running)
        }
    }

    func leave() {
        state.withLock { $0.running -= 1 }
    }
}
