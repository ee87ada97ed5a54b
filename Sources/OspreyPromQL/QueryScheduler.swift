import Dispatch
import Synchronization

/// Runs queries off Swift's cooperative pool, at most `maxConcurrency` at a time
/// (Prometheus' `--query.max-concurrency`); the rest wait in arrival order. A waiting or
/// running query whose task is canceled (its client went away) stops at its next check.
package final class QueryScheduler: Sendable {
    private let gate: Gate
    private let queue = DispatchQueue(label: "osprey.promql", attributes: .concurrent)

    /// A scheduler running at most `maxConcurrency` queries at once.
    package init(maxConcurrency: Int) {
        gate = Gate(permits: max(1, maxConcurrency))
    }

    /// Runs `body` under `context` once a slot is free. Cancelling the calling task cancels
    /// the query.
    package func run<T: Sendable>(_ context: QueryContext, _ body: @escaping @Sendable () throws(PromQLError) -> T) async throws(PromQLError) -> T {
        let result: Result<T, PromQLError> = await withTaskCancellationHandler {
            guard await gate.acquire() else {
                return .failure(PromQLError(code: .canceled, message: "query was canceled in query queue"))
            }
            return await withCheckedContinuation { continuation in
                queue.async { [gate] in
                    let result: Result<T, PromQLError>
                    do throws(PromQLError) {
                        result = .success(try body())
                    } catch {
                        result = .failure(error)
                    }
                    gate.release()
                    continuation.resume(returning: result)
                }
            }
        } onCancel: {
            context.cancel()
        }
        return try result.get()
    }

    /// A counting semaphore for tasks, first come first served: a lock, not an actor, so that
    /// a free permit costs no hop and a finished query hands its permit on from its thread.
    private final class Gate: Sendable {
        private struct State {
            var permits: Int
            var waiters: [(id: Int, continuation: CheckedContinuation<Bool, Never>)] = []
            var nextID = 0
        }

        private let state: Mutex<State>

        init(permits: Int) {
            state = Mutex(State(permits: permits))
        }

        /// Waits for a permit; false when the task was canceled while waiting.
        func acquire() async -> Bool {
            if Task.isCancelled { return false }
            let id: Int? = state.withLock { state in
                if state.permits > 0 {
                    state.permits -= 1
                    return nil
                }
                state.nextID += 1
                return state.nextID
            }
            guard let id else { return true }
            return await withTaskCancellationHandler {
                await withCheckedContinuation { continuation in
                    let immediate: Bool? = state.withLock { state in
                        // Cancelled before it could wait: the cancel handler found nothing to resume.
                        if Task.isCancelled { return false }
                        if state.permits > 0 {
                            state.permits -= 1
                            return true
                        }
                        state.waiters.append((id, continuation))
                        return nil
                    }
                    if let immediate { continuation.resume(returning: immediate) }
                }
            } onCancel: {
                let waiter = state.withLock { state -> CheckedContinuation<Bool, Never>? in
                    guard let index = state.waiters.firstIndex(where: { $0.id == id }) else { return nil }
                    return state.waiters.remove(at: index).continuation
                }
                waiter?.resume(returning: false)
            }
        }

        /// Returns a permit, or hands it to the longest waiter.
        func release() {
            let next = state.withLock { state -> CheckedContinuation<Bool, Never>? in
                if state.waiters.isEmpty {
                    state.permits += 1
                    return nil
                }
                return state.waiters.removeFirst().continuation
            }
            next?.resume(returning: true)
        }
    }
}
