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

    /// Runs `body` under `context` once a slot is free, off the cooperative pool. Cancelling
    /// the calling task cancels the query.
    package func run<T: Sendable>(_ context: QueryContext, _ body: @escaping @Sendable () throws(PromQLError) -> T) async throws(PromQLError) -> T {
        try await run(context) { () throws(PromQLError) in PreparedQuery(estimatedSamples: .max, body) }
    }

    /// Evaluations estimated to touch at most this many samples run on the caller's thread:
    /// about a millisecond of work, less than the two thread hops of running it elsewhere.
    package static let inlineSamples = 100_000

    /// Runs a query once a slot is free: `prepare` (selecting series: index work only) on the
    /// calling task, then the evaluation there too when it is small (``inlineSamples``, and
    /// the selection took under a millisecond), else off the cooperative pool like
    /// ``run(_:_:)``. Cancelling the calling task cancels the query.
    package func run<T: Sendable>(
        _ context: QueryContext, prepare: @escaping @Sendable () throws(PromQLError) -> PreparedQuery<T>
    ) async throws(PromQLError) -> T {
        let result: Result<T, PromQLError> = await withTaskCancellationHandler {
            guard await gate.acquire() else {
                return .failure(PromQLError(code: .canceled, message: "query was canceled in query queue"))
            }
            let started = DispatchTime.now().uptimeNanoseconds
            let prepared: PreparedQuery<T>
            do throws(PromQLError) {
                prepared = try prepare()
            } catch {
                gate.release()
                return .failure(error)
            }
            if prepared.estimatedSamples <= Self.inlineSamples && DispatchTime.now().uptimeNanoseconds - started < 1_000_000 {
                return Self.evaluate(prepared, releasing: gate)
            }
            return await withCheckedContinuation { continuation in
                queue.async { [gate] in continuation.resume(returning: Self.evaluate(prepared, releasing: gate)) }
            }
        } onCancel: {
            context.cancel()
        }
        return try result.get()
    }

    /// Evaluates `prepared`, then hands its permit on.
    private static func evaluate<T>(_ prepared: PreparedQuery<T>, releasing gate: Gate) -> Result<T, PromQLError> {
        defer { gate.release() }
        do throws(PromQLError) {
            return .success(try prepared.evaluate())
        } catch {
            return .failure(error)
        }
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
