import Logging
import OspreyTSDB
import ServiceLifecycle

/// Runs the metrics engine's background work and closes it (flushing the WAL) at shutdown.
struct TSDBService: Service {
    let tsdb: TSDB

    func run() async throws {
        await cancelWhenGracefulShutdown {
            await tsdb.runBackgroundTasks()
        }
        await tsdb.close()
    }
}
