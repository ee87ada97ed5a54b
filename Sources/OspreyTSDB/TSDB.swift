import Foundation
package import Logging
package import OspreyModel
package import OspreyStorage

/// The embedded metrics engine: a head with its WAL in a data directory laid out as
/// Prometheus' (`DIR/wal/…`), so Prometheus and Osprey open each other's directories.
///
/// Implements the storage contracts; everything above sees only those.
package final class TSDB: MetricAppendable, MetricQueryable, HeadStatisticsProvider {
    /// The data directory.
    package let directory: String
    /// The in-memory head.
    package let head: Head
    /// What the WAL replay at open found.
    package let replayReport: WALReplayReport
    private let logger: Logger
    private let lock: DirectoryLock

    private init(directory: String, lock: DirectoryLock, head: Head, replayReport: WALReplayReport, logger: Logger) {
        self.directory = directory
        self.lock = lock
        self.head = head
        self.replayReport = replayReport
        self.logger = logger
    }

    /// Opens (or creates) the data directory, replays its WAL (repairing a torn or corrupt
    /// tail) and starts a new WAL segment. Throws `.io` when the directory cannot be used.
    package static func open(directory: String, options: TSDBOptions, logger: Logger) throws(StorageError) -> TSDB {
        let walDirectory = (directory as NSString).appendingPathComponent("wal")
        do {
            try FileManager.default.createDirectory(atPath: walDirectory, withIntermediateDirectories: true)
        } catch {
            throw StorageError(code: .io, message: "cannot create data directory \(walDirectory)", cause: error)
        }
        let lock = try DirectoryLock(directory: directory)
        let metrics = HeadMetrics()
        let replayHead = Head(options: options, wal: nil, metrics: metrics)
        let report = try WALReplay.replay(directory: walDirectory, into: replayHead, logger: logger)
        let wal = try HeadWAL.open(directory: walDirectory, options: options, metrics: metrics)
        let head = Head(adopting: replayHead, wal: wal)
        return TSDB(directory: directory, lock: lock, head: head, replayReport: report, logger: logger)
    }

    package func appender() -> any MetricAppender {
        head.appender()
    }

    package func querier(minTimeMs: Int64, maxTimeMs: Int64) throws(StorageError) -> any MetricQuerier {
        HeadQuerier(head: head, minTimeMs: minTimeMs, maxTimeMs: maxTimeMs)
    }

    package func headStatistics(limit: Int) -> HeadStatistics {
        head.statistics(limit: limit)
    }

    /// Background work until cancelled: periodic WAL fsync under the `write` policy.
    package func runBackgroundTasks() async {
        guard let wal = head.wal else { return }
        while !Task.isCancelled {
            do {
                try await Task.sleep(for: head.options.walSyncInterval)
            } catch {
                break
            }
            do {
                try await wal.syncIfNeeded()
            } catch {
                logger.error("WAL fsync failed", metadata: ["error": "\(error)"])
            }
        }
    }

    /// Flushes and closes the WAL; the engine is not used afterwards.
    package func close() async {
        do {
            try await head.wal?.close()
        } catch {
            logger.error("closing the WAL failed", metadata: ["error": "\(error)"])
        }
    }
}
