import Dispatch
import Foundation
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
