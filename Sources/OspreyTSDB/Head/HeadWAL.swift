import CoreMetrics
import Dispatch
import Foundation
import Glibc
package import OspreyModel
package import OspreyStorage
import Synchronization

/// The head's write-ahead log: encodes each commit into Prometheus WAL records, writes them under
/// one lock, and provides the durability of the configured ``WALSyncPolicy``.
///
/// Thread-safety: all methods may be called concurrently. The WAL writer is guarded by `state`;
/// fsyncs run on a dedicated dispatch queue, never on the cooperative pool or an event loop.
package final class HeadWAL: Sendable {
    private struct State {
        var wal: WAL
        /// Sequence number of the last commit written.
        var writtenSeq: UInt64 = 0
        /// Reused encoding buffers.
        var seriesBuffer: [UInt8] = []
        var samplesBuffer: [UInt8] = []
        var refSeries: [RefSeries] = []
        var refSamples: [RefSample] = []
        var closed = false
    }

    private let state: Mutex<State>
    /// Sequence number covered by the last completed fsync.
    private let syncedSeq = Atomic<UInt64>(0)
    private let syncQueue = DispatchQueue(label: "osprey.tsdb.wal.sync")
    private let policy: WALSyncPolicy
    private let metrics: HeadMetrics

    private init(wal: sending WAL, policy: WALSyncPolicy, metrics: HeadMetrics) {
        self.state = Mutex(State(wal: wal))
        self.policy = policy
        self.metrics = metrics
    }

    /// Opens the WAL in `directory` for appending, starting a new segment after the existing ones.
    package static func open(directory: String, options: TSDBOptions, metrics: HeadMetrics) throws(StorageError) -> HeadWAL {
        do {
            let wal = try WAL(directory: directory, segmentSizeBytes: options.walSegmentSizeBytes, compress: options.walCompression)
            return HeadWAL(wal: wal, policy: options.walSyncPolicy, metrics: metrics)
        } catch {
            throw StorageError(code: .io, message: "cannot open the WAL in \(directory)", cause: error)
        }
    }

    /// Logs one commit: series records for series this WAL has not seen yet, then samples,
    /// exemplars and metadata. Returns once the records are durable under the sync policy.
    package func log(
        samples: [PendingSample], exemplars: [(MemSeries, Exemplar)], metadata: [(MemSeries, MetricMetadata)]
    ) async throws(StorageError) {
        let seq: UInt64 = try state.withLock { state throws(StorageError) in
            guard !state.closed else { throw StorageError(code: .unavailable, message: "the WAL is closed") }
            state.refSeries.removeAll(keepingCapacity: true)
            state.refSamples.removeAll(keepingCapacity: true)
            var newlyLogged: [MemSeries] = []
            func noteSeries(_ series: MemSeries) {
                if !series.loggedToWAL.load(ordering: .relaxed) {
                    series.loggedToWAL.store(true, ordering: .relaxed)
                    newlyLogged.append(series)
                    state.refSeries.append(RefSeries(ref: series.ref, labels: series.labels))
                }
            }
            for sample in samples {
                noteSeries(sample.series)
                state.refSamples.append(RefSample(ref: sample.series.ref, timestampMs: sample.timestampMs, value: sample.value))
            }
            for (series, _) in exemplars { noteSeries(series) }
            for (series, _) in metadata { noteSeries(series) }
            var records: [[UInt8]] = []
            if !state.refSeries.isEmpty {
                state.seriesBuffer.removeAll(keepingCapacity: true)
                WALRecordEncoder.encodeSeries(state.refSeries, into: &state.seriesBuffer)
                records.append(state.seriesBuffer)
            }
            if !state.refSamples.isEmpty {
                state.samplesBuffer.removeAll(keepingCapacity: true)
                WALRecordEncoder.encodeSamples(state.refSamples, into: &state.samplesBuffer)
                records.append(state.samplesBuffer)
            }
            if !exemplars.isEmpty {
                var buffer: [UInt8] = []
                WALRecordEncoder.encodeExemplars(
                    exemplars.map { RefExemplar(ref: $0.0.ref, timestampMs: $0.1.timestampMs ?? 0, value: $0.1.value, labels: $0.1.labels) },
                    into: &buffer)
                records.append(buffer)
            }
            if !metadata.isEmpty {
                var buffer: [UInt8] = []
                WALRecordEncoder.encodeMetadata(
                    metadata.map { RefMetadata(ref: $0.0.ref, type: $0.1.type, unit: $0.1.unit, help: $0.1.help) },
                    into: &buffer)
                records.append(buffer)
            }
            do {
                try state.wal.log(records: records)
            } catch {
                for series in newlyLogged { series.loggedToWAL.store(false, ordering: .relaxed) }
                metrics.walWriteFailures.increment()
                throw StorageError(code: .io, message: "cannot write to the WAL", cause: error)
            }
            metrics.walBytesWritten.increment(by: Int64(records.reduce(0) { $0 + $1.count }))
            state.writtenSeq += 1
            return state.writtenSeq
        }
        if policy == .always {
            try await syncCovering(seq)
        }
    }

    /// Logs a tombstones record and returns once it is fsynced, whatever the sync policy.
    package func logTombstones(_ tombstones: [RefTombstone]) async throws(StorageError) {
        let seq: UInt64 = try state.withLock { state throws(StorageError) in
            guard !state.closed else { throw StorageError(code: .unavailable, message: "the WAL is closed") }
            var buffer: [UInt8] = []
            WALRecordEncoder.encodeTombstones(tombstones, into: &buffer)
            do {
                try state.wal.log(records: [buffer])
            } catch {
                metrics.walWriteFailures.increment()
                throw StorageError(code: .io, message: "cannot write to the WAL", cause: error)
            }
            metrics.walBytesWritten.increment(by: Int64(buffer.count))
            state.writtenSeq += 1
            return state.writtenSeq
        }
        try await syncCovering(seq)
    }

    /// Fsyncs whatever was written since the last fsync (the `write` policy's periodic sync).
    package func syncIfNeeded() async throws(StorageError) {
        let written = state.withLock { $0.writtenSeq }
        guard written > syncedSeq.load(ordering: .acquiring) else { return }
        try await syncCovering(written)
    }

    /// Waits until an fsync covers commit `seq`; concurrent callers share fsyncs.
    private func syncCovering(_ seq: UInt64) async throws(StorageError) {
        let result: Result<Void, StorageError> = await withCheckedContinuation { continuation in
            syncQueue.async {
                guard self.syncedSeq.load(ordering: .acquiring) < seq else {
                    continuation.resume(returning: .success(()))
                    return
                }
                let start = DispatchTime.now().uptimeNanoseconds
                // Take what to sync under the lock, fsync outside it: commits keep flowing.
                let target: Result<(UInt64, Int32), StorageError> = self.state.withLock { state in
                    do {
                        return .success((state.writtenSeq, try state.wal.duplicateSegmentDescriptor()))
                    } catch {
                        return .failure(StorageError(code: .io, message: "cannot fsync the WAL", cause: error))
                    }
                }
                let outcome: Result<Void, StorageError> = target.flatMap { covered, descriptor in
                    defer { Glibc.close(descriptor) }
                    guard fsync(descriptor) == 0 else {
                        return .failure(StorageError(code: .io, message: "cannot fsync the WAL: \(String(cString: strerror(errno)))"))
                    }
                    self.syncedSeq.store(covered, ordering: .releasing)
                    return .success(())
                }
                self.metrics.walFsyncs.increment()
                self.metrics.walFsyncDuration.recordNanoseconds(Int64(DispatchTime.now().uptimeNanoseconds - start))
                continuation.resume(returning: outcome)
            }
        }
        try result.get()
    }

    /// Fsyncs and closes the WAL; later commits fail with `.unavailable`.
    /// Checkpoints every segment before a new one it starts: the checkpoint keeps the series
    /// for which `keepSeries` is true and their records at or after `minTimeMs`; the covered
    /// segments and older checkpoints are then deleted (Prometheus' WAL truncation).
    package func checkpoint(keepSeries: (UInt64) -> Bool, minTimeMs: Int64) throws(StorageError) {
        let (directory, last, compress): (String, Int, Bool) = try state.withLock { state throws(StorageError) in
            do {
                let next = try state.wal.nextSegment()
                return (state.wal.directory, next - 1, state.wal.compress)
            } catch {
                throw StorageError(code: .io, message: "cannot start a new WAL segment for a checkpoint", cause: error)
            }
        }
        do {
            guard let first = try WALSegment.list(in: directory).first?.index, first <= last else { return }
            _ = try WALCheckpoint.create(directory: directory, from: first, to: last, keepSeries: keepSeries, minTimeMs: minTimeMs, compress: compress)
            _ = try WAL.deleteSegments(in: directory, before: last + 1)
            try WALCheckpoint.deleteCheckpoints(in: directory, before: last)
        } catch {
            throw StorageError(code: .io, message: "cannot checkpoint the WAL in \(directory)", cause: error)
        }
    }

    package func close() async throws(StorageError) {
        try await syncIfNeeded()
        try state.withLock { state throws(StorageError) in
            guard !state.closed else { return }
            state.closed = true
            do {
                try state.wal.close()
            } catch {
                throw StorageError(code: .io, message: "cannot close the WAL", cause: error)
            }
        }
    }
}
