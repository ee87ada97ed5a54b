import Dispatch

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
            defer { Task { await gate.release() } }
            return await withCheckedContinuation { continuation in
                queue.async {
                    do throws(PromQLError) {
                        continuation.resume(returning: .success(try body()))
                    } catch {
                        continuation.resume(returning: .failure(error))
                    }
                }
            }
        } onCancel: {
            context.cancel()
        }
        return try result.get()
    }

    /// A counting semaphore for tasks, first come first served.
    private actor Gate {
        private var permits: Int
        private var waiters: [(id: Int, continuation: CheckedContinuation<Bool, Never>)] = []
        private var nextID = 0

        init(permits: Int) {
            self.permits = permits
        }

        /// Waits for a permit; false when the task was canceled while waiting.
        func acquire() async -> Bool {
            if Task.isCancelled { return false }
            if permits > 0 {
                permits -= 1
                return true
            }
            let id = nextID
            nextID += 1
            return await withTaskCancellationHandler {
                await withCheckedContinuation { continuation in
                    waiters.append((id, continuation))
                }
            } onCancel: {
                Task { await self.abandon(id) }
            }
        }

        func release() {
            if waiters.isEmpty {
                permits += 1
            } else {
                waiters.removeFirst().continuation.resume(returning: true)
            }
        }

        private func abandon(_ id: Int) {
            guard let index = waiters.firstIndex(where: { $0.id == id }) else { return }
            waiters.remove(at: index).continuation.resume(returning: false)
        }
    }
}
