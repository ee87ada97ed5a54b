import OspreyStorage
import Synchronization

/// Lets one piece of storage maintenance run at a time (head persistence with compaction and
/// retention, deletion, tombstone cleaning, snapshots), so that none sees blocks another is
/// replacing. Waiters poll: maintenance is rare and takes seconds, not microseconds.
final class MaintenanceGate: Sendable {
    private let busy = Mutex(false)

    /// Runs `body` once no other maintenance runs.
    func run<T: Sendable>(_ body: () async throws(StorageError) -> T) async throws(StorageError) -> T {
        while !busy.withLock({ busy in
            if busy { return false }
            busy = true
            return true
        }) {
            try? await Task.sleep(for: .milliseconds(20))
        }
        defer { busy.withLock { $0 = false } }
        return try await body()
    }
}
