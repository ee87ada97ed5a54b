import Synchronization
import Dispatch
package import Logging
package import OspreyModel
package import OspreyStorage

/// What replaying the WAL at start-up found.
package struct WALReplayReport: Sendable {
    /// Reader statistics: segments, records, bytes, corruption.
    package var statistics: WALReplayStatistics
    /// The repair made after a torn or corrupt tail, if any.
    package var repair: WALRepairSummary?
    /// Series records applied.
    package var seriesRecords = 0
    /// Samples applied.
    package var samples = 0
    /// Samples whose series record was missing (skipped, as Prometheus does).
    package var samplesWithUnknownSeries = 0
    /// Wall time of the replay.
    package var durationSeconds = 0.0
}

/// Rebuilds a head from a WAL directory (Prometheus' or Osprey's): newest checkpoint, then the
/// segments after it; a corrupt or torn tail is truncated and logged, never fatal.
package enum WALReplay {
    /// Replays `directory` into `head` (which must have no WAL of its own). Throws `.io` only
    /// when the directory cannot be read or repaired. `readOnly` leaves a corrupt tail as it
    /// is (logged; the records before it are replayed).
    package static func replay(directory: String, into head: Head, logger: Logger, readOnly: Bool = false) throws(StorageError) -> WALReplayReport {
        let start = DispatchTime.now().uptimeNanoseconds
        var seriesByWALRef: [UInt64: MemSeries] = [:]
        var report = WALReplayReport(statistics: WALReplayStatistics())
        let replayer = WALReplayer(directory: directory)
        let options = head.options
        do {
            report.statistics = try replayer.replay { record in
                switch record {
                case .series(let list):
                    for entry in list {
                        let (series, _) = head.getOrCreate(labels: entry.labels, walRef: entry.ref)
                        series.loggedToWAL.store(true, ordering: .relaxed)
                        seriesByWALRef[entry.ref] = series
                        report.seriesRecords += 1
                    }
                case .samples(let list):
                    apply(list, seriesByWALRef, options, head, &report)
                case .metadata(let list):
                    for entry in list {
                        seriesByWALRef[entry.ref]?.state.withLock {
                            $0.metadata = MetricMetadata(type: entry.type, unit: entry.unit, help: entry.help)
                        }
                    }
                case .exemplars(let list):
                    for entry in list {
                        seriesByWALRef[entry.ref]?.state.withLock {
                            if $0.exemplars.count >= 16 { $0.exemplars.removeFirst() }
                            $0.exemplars.append(Exemplar(labels: entry.labels, value: entry.value, timestampMs: entry.timestampMs))
                        }
                    }
                case .tombstones(let list):
                    for entry in list where entry.minTimeMs <= entry.maxTimeMs {
                        guard let series = seriesByWALRef[entry.ref] else { continue }
                        series.state.withLock { $0.deleted.add(entry.minTimeMs...entry.maxTimeMs) }
                        head.noteDeletions()
                    }
                case .unknown:
                    break
                }
            }
        } catch {
            throw StorageError(code: .io, message: "cannot replay the WAL in \(directory)", cause: error)
        }
        if let corruption = report.statistics.corruption, readOnly {
            logger.warning("WAL is corrupt or torn at its tail; read up to there", metadata: ["corruption": "\(corruption)"])
        } else if let corruption = report.statistics.corruption {
            logger.warning("WAL is corrupt or torn at its tail; truncating it", metadata: ["corruption": "\(corruption)"])
            do {
                report.repair = try WAL.repair(directory: directory, corruption: corruption)
            } catch {
                throw StorageError(code: .io, message: "cannot repair the WAL in \(directory)", cause: error)
            }
            if let repair = report.repair { logger.warning("WAL repaired", metadata: ["repair": "\(repair)"]) }
        }
        report.durationSeconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        logger.info(
            "WAL replay completed",
            metadata: [
                "checkpoint": "\(report.statistics.checkpointIndex.map(String.init) ?? "none")",
                "segments": "\(report.statistics.segmentsRead)",
                "records": "\(report.statistics.recordsRead)",
                "series": "\(head.series.seriesCount)",
                "samples": "\(report.samples)",
                "unknown_series_samples": "\(report.samplesWithUnknownSeries)",
                "duration_seconds": "\(report.durationSeconds)",
            ])
        return report
    }

    private static func apply(
        _ samples: [RefSample], _ seriesByWALRef: [UInt64: MemSeries], _ options: TSDBOptions, _ head: Head,
        _ report: inout WALReplayReport
    ) {
        var low = Int64.max
        var high = Int64.min
        var index = 0
        while index < samples.count {
            let ref = samples[index].ref
            var end = index + 1
            while end < samples.count && samples[end].ref == ref { end += 1 }
            guard let series = seriesByWALRef[ref] else {
                report.samplesWithUnknownSeries += end - index
                index = end
                continue
            }
            series.state.withLock { state in
                for sample in samples[index..<end] {
                    state.append(timestampMs: sample.timestampMs, value: sample.value, samplesPerChunk: options.samplesPerChunk, chunkRangeMs: options.chunkRangeMs, slabs: head.chunkSlabs)
                    low = min(low, sample.timestampMs)
                    high = max(high, sample.timestampMs)
                }
            }
            report.samples += end - index
            index = end
        }
        if low <= high { head.noteTime(min: low, max: high) }
    }
}
