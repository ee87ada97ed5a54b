import Foundation
import Glibc
import Logging
package import OspreyModel
package import OspreyStorage

/// Prometheus' TSDB admin operations: deletion by tombstones, cleaning them, snapshots.
extension TSDB {
    package func deleteSeries(matcherSets: [[LabelMatcher]], minTimeMs: Int64, maxTimeMs: Int64) async throws(StorageError) {
        try await maintenance.run { () throws(StorageError) in
            for block in loadedBlocks {
                do {
                    let affected = try block.delete(matcherSets: matcherSets, minTimeMs: minTimeMs, maxTimeMs: maxTimeMs)
                    if affected > 0 { logger.info("added tombstones to a block", metadata: ["block": "\(block.meta.ulid)", "series": "\(affected)"]) }
                } catch {
                    throw StorageError(code: .io, message: "cannot write tombstones of block \(block.meta.ulid)", cause: error)
                }
            }
            let affected = try await head.delete(matcherSets: matcherSets, minTimeMs: minTimeMs, maxTimeMs: maxTimeMs)
            if affected > 0 { logger.info("added tombstones to the head", metadata: ["series": "\(affected)"]) }
        }
    }

    /// Rewrites each block with tombstones without the deleted samples (same range and
    /// level; the old block becomes the new one's parent, so a crash before it is deleted
    /// leaves it for the next start to remove). A block left without samples is deleted.
    package func cleanTombstones() async throws(StorageError) {
        try await maintenance.run { () throws(StorageError) in
            for block in loadedBlocks where block.hasTombstones {
                let rewritten: Block?
                do {
                    rewritten = try Compactor.merge([block], into: directory, samplesPerChunk: head.options.samplesPerChunk, level: block.meta.compaction.level)
                        .map { meta throws(BlockError) in try Block(directory: (directory as NSString).appendingPathComponent(meta.ulid), logger: logger) }
                } catch {
                    throw StorageError(code: .io, message: "cannot rewrite block \(block.meta.ulid) without its tombstones", cause: error)
                }
                replace([block], with: rewritten)
                logger.info("rewrote a block without its deleted data", metadata: [
                    "block": "\(block.meta.ulid)", "new_block": "\(rewritten?.meta.ulid ?? "none: every sample was deleted")",
                ])
            }
        }
    }

    /// Under `snapshots/<time>-<random hex>`: every block hard-linked, and unless `skipHead`
    /// the head (tombstones applied) written as one more block, as Prometheus' snapshot; and
    /// an empty `wal`, so the snapshot opens as a data directory.
    package func snapshot(skipHead: Bool) async throws(StorageError) -> String {
        let name = Self.snapshotName(Date())
        let snapshotsDirectory = (directory as NSString).appendingPathComponent("snapshots")
        let target = (snapshotsDirectory as NSString).appendingPathComponent(name)
        try await maintenance.run { () throws(StorageError) in
            do {
                try BlockFiles.createDirectory(snapshotsDirectory)
                try BlockFiles.createDirectory(target)
                // An empty WAL, so that `promtool tsdb dump` and Prometheus open it as it is.
                try BlockFiles.createDirectory((target as NSString).appendingPathComponent("wal"))
                for block in loadedBlocks {
                    try BlockFiles.hardLinkTree(block.directory, (target as NSString).appendingPathComponent(block.meta.ulid))
                }
                if !skipHead, let minTime = head.minTimeMs, let maxTime = head.maxTimeMs {
                    let series = headSeriesForBlock(from: minTime, before: maxTime + 1)
                    if !series.isEmpty {
                        _ = try BlockWriter.write(series, minTimeMs: minTime, maxTimeMs: maxTime + 1, into: target)
                    }
                }
                try BlockFiles.syncDirectory(target)
            } catch {
                throw StorageError(code: .io, message: "cannot create snapshot \(name)", cause: error)
            }
        }
        logger.info("created a snapshot", metadata: ["name": "\(name)", "directory": "\(target)"])
        return name
    }

    /// Prometheus' snapshot name: UTC time as `20060102T150405Z`, a dash, a random number
    /// in hex.
    static func snapshotName(_ date: Date) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "yyyyMMdd'T'HHmmss'Z'"
        return formatter.string(from: date) + "-" + String(UInt64.random(in: 0..<(1 << 63)), radix: 16)
    }
}
