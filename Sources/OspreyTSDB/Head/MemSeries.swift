package import OspreyEncoding
package import OspreyStorage
package import OspreyModel
package import Synchronization

/// Outcome of checking whether a sample can be appended to a series.
package enum Appendability: Equatable, Sendable {
    /// Newer than everything in the series.
    case inOrder
    /// Older than the newest sample, within the out-of-order window.
    case outOfOrder
    /// Identical to a stored sample: nothing to do.
    case duplicate
}

/// The mutable part of a head series, guarded by ``MemSeries/state``.
package struct SeriesState: Sendable {
    /// Completed chunks in time order.
    package var chunks: [HeadChunk] = []
    /// The chunk being appended to.
    package var openChunk = XORChunkEncoder()
    /// First timestamp of the open chunk.
    package var openMinTimeMs: Int64 = .max
    /// Newest in-order timestamp, `.min` while the series has no sample.
    package var maxTimeMs: Int64 = .min
    /// Oldest timestamp in the series.
    package var minTimeMs: Int64 = .max
    /// Value of the newest in-order sample.
    package var lastValue: Double = 0
    /// The in-order sample before the newest (`.min` time while there is none): with the
    /// newest, what an instant selector at or just before the last scrape reads without
    /// decoding.
    package var previous = Sample(timestampMs: .min, value: 0)
    /// Samples accepted out of order, sorted by time, without duplicates.
    package var outOfOrder: [Sample] = []
    /// Latest metric metadata for the series' family.
    package var metadata: MetricMetadata?
    /// Exemplars, newest last, bounded per series.
    package var exemplars: [Exemplar] = []
    /// Deleted ranges (tombstones): readers skip them, head persistence leaves them out.
    package var deleted = DeletedIntervals()
    /// Set when the head dropped the series for being empty (``Head/collectEmptySeries()``);
    /// an appender that still holds it puts it back before applying samples.
    package var removed = false
    /// The appender that last buffered a sample for this series, with that sample's time and
    /// value, so an appender can order samples within its batch without a map of its own.
    package var pendingAppender: UInt64 = 0
    /// Newest timestamp buffered by ``pendingAppender``.
    package var pendingMaxTimeMs: Int64 = .min
    /// Value buffered at ``pendingMaxTimeMs``.
    package var pendingLastValue: Double = 0

    /// Whether the series holds any sample.
    package var isEmpty: Bool { maxTimeMs == .min && outOfOrder.isEmpty }

    /// Whether no sample is left in memory (none appended, or all truncated).
    package var holdsNoSamples: Bool { chunks.isEmpty && openChunk.count == 0 && outOfOrder.isEmpty }

    /// Decides how a sample relates to what is stored, Prometheus' `memSeries.appendable`.
    package func appendability(timestampMs: Int64, value: Double, outOfOrderWindowMs: Int64) -> Result<Appendability, StorageErrorCodeOnly> {
        if timestampMs > maxTimeMs { return .success(.inOrder) }
        if timestampMs == maxTimeMs {
            return value.bitPattern == lastValue.bitPattern ? .success(.duplicate) : .failure(.duplicateSampleForTimestamp)
        }
        guard outOfOrderWindowMs > 0 else { return .failure(.outOfOrderSample) }
        guard timestampMs >= maxTimeMs - outOfOrderWindowMs else { return .failure(.tooOldSample) }
        if let existing = outOfOrderSample(at: timestampMs) {
            return existing.value.bitPattern == value.bitPattern ? .success(.duplicate) : .failure(.duplicateSampleForTimestamp)
        }
        return .success(.outOfOrder)
    }

    private func outOfOrderSample(at timestampMs: Int64) -> Sample? {
        let index = insertionIndex(timestampMs)
        return index < outOfOrder.count && outOfOrder[index].timestampMs == timestampMs ? outOfOrder[index] : nil
    }

    private func insertionIndex(_ timestampMs: Int64) -> Int {
        var low = 0
        var high = outOfOrder.count
        while low < high {
            let mid = (low + high) / 2
            if outOfOrder[mid].timestampMs < timestampMs { low = mid + 1 } else { high = mid }
        }
        return low
    }

    /// Appends a sample that ``appendability`` accepted; returns true when a chunk was cut.
    /// A sample that is no longer in order (a concurrent commit stored a newer one) goes to the
    /// out-of-order buffer: an acknowledged sample is never dropped.
    @discardableResult
    package mutating func append(timestampMs: Int64, value: Double, samplesPerChunk: Int, chunkRangeMs: Int64, slabs: ChunkSlabAllocator) -> Bool {
        minTimeMs = min(minTimeMs, timestampMs)
        guard timestampMs > maxTimeMs else {
            insertOutOfOrder(Sample(timestampMs: timestampMs, value: value))
            return false
        }
        var cut = false
        if openChunk.count > 0
            && (openChunk.count >= samplesPerChunk || crossesRangeBoundary(timestampMs, chunkRangeMs: chunkRangeMs))
        {
            // A completed chunk keeps exactly its bytes, packed with other chunks cut about now.
            chunks.append(slabs.chunk(minTimeMs: openMinTimeMs, maxTimeMs: maxTimeMs, bytes: openChunk.bytes))
            openChunk = XORChunkEncoder()
            cut = true
        }
        if openChunk.count == 0 { openMinTimeMs = timestampMs }
        _ = openChunk.append(timestampMs: timestampMs, value: value)
        if maxTimeMs != .min { previous = Sample(timestampMs: maxTimeMs, value: lastValue) }
        maxTimeMs = timestampMs
        lastValue = value
        return cut
    }

    private func crossesRangeBoundary(_ timestampMs: Int64, chunkRangeMs: Int64) -> Bool {
        guard chunkRangeMs > 0 else { return false }
        return floorDiv(timestampMs, chunkRangeMs) != floorDiv(openMinTimeMs, chunkRangeMs)
    }

    private mutating func insertOutOfOrder(_ sample: Sample) {
        let index = insertionIndex(sample.timestampMs)
        if index < outOfOrder.count && outOfOrder[index].timestampMs == sample.timestampMs { return }
        outOfOrder.insert(sample, at: index)
    }

    /// Drops the chunks and out-of-order samples older than `timestampMs` (persisted in a
    /// block). The newest sample's time stays, so appends keep their order; ``minTimeMs``
    /// becomes the first remaining sample's (`.max` when none remains, which readers skip).
    package mutating func truncate(before timestampMs: Int64) {
        chunks.removeAll { $0.maxTimeMs < timestampMs }
        if openChunk.count > 0 && maxTimeMs < timestampMs {
            openChunk = XORChunkEncoder()
            openMinTimeMs = .max
        }
        outOfOrder.removeAll { $0.timestampMs < timestampMs }
        deleted.removeAll(before: timestampMs)
        minTimeMs = min(chunks.first?.minTimeMs ?? .max, openChunk.count > 0 ? openMinTimeMs : .max, outOfOrder.first?.timestampMs ?? .max)
    }

    /// The chunks of `[lowMs, highMs)` for a block, out-of-order samples merged in (their
    /// chunks re-encoded then). Chunks never straddle a block-range boundary.
    package func chunksForBlock(from lowMs: Int64, before highMs: Int64, samplesPerChunk: Int) -> [HeadChunk] {
        var inRange = chunks.filter { $0.minTimeMs >= lowMs && $0.maxTimeMs < highMs }
        if openChunk.count > 0 && openMinTimeMs >= lowMs && maxTimeMs < highMs {
            inRange.append(HeadChunk(minTimeMs: openMinTimeMs, maxTimeMs: maxTimeMs, bytes: openChunk.bytes))
        }
        let late = outOfOrder.filter { $0.timestampMs >= lowMs && $0.timestampMs < highMs }
        let deletes = deleted.overlaps(lowMs, highMs - 1)
        guard !late.isEmpty || deletes else { return inRange }
        var samples: [Sample] = []
        HeadSampleIterator.appendChunks(inRange, minTimeMs: lowMs, maxTimeMs: highMs - 1, to: &samples)
        // An in-order sample wins a tie, as readers see it.
        if !late.isEmpty { samples = Sample.mergedByTime(samples, late) }
        deleted.remove(from: &samples)
        return HeadChunk.encode(samples, samplesPerChunk: samplesPerChunk)
    }

    /// A consistent copy of the series' samples for a reader.
    package func snapshot() -> SeriesSnapshot {
        snapshot(from: .min, through: .max)
    }

    /// The chunks overlapping `[lowMs, highMs]` (and all out-of-order samples): what a read
    /// of that range needs, without copying the rest.
    package func snapshot(from lowMs: Int64, through highMs: Int64) -> SeriesSnapshot {
        var selected: [HeadChunk] = []
        // Chunks are in time order: skip those that end before the range.
        var index = chunks.count
        while index > 0 && chunks[index - 1].maxTimeMs >= lowMs { index -= 1 }
        while index < chunks.count && chunks[index].minTimeMs <= highMs {
            selected.append(chunks[index])
            index += 1
        }
        if openChunk.count > 0 && openMinTimeMs <= highMs && maxTimeMs >= lowMs {
            selected.append(HeadChunk(minTimeMs: openMinTimeMs, maxTimeMs: maxTimeMs, bytes: openChunk.bytes))
        }
        return SeriesSnapshot(chunks: selected, outOfOrder: outOfOrder, deleted: deleted)
    }

    /// Number of chunks, open chunk included.
    package var chunkCount: Int { chunks.count + (openChunk.count > 0 ? 1 : 0) }
}

/// The subset of storage error codes the series decides, to avoid building messages per sample.
package enum StorageErrorCodeOnly: Error, Sendable {
    case outOfOrderSample, duplicateSampleForTimestamp, tooOldSample
}

/// The samples of a series at one moment, owned by the reader.
package struct SeriesSnapshot: Sendable {
    /// In-order chunks, the open one last.
    package var chunks: [HeadChunk]
    /// Out-of-order samples, sorted.
    package var outOfOrder: [Sample]
    /// Deleted ranges, which readers skip.
    package var deleted = DeletedIntervals()
}

/// A series in the head: immutable identity plus locked mutable state.
package final class MemSeries: Sendable {
    /// The series' reference, as written in the WAL.
    package let ref: UInt64
    /// The series' labels (strings interned by the head).
    package let labels: Labels
    /// The label hash used by the stripes.
    package let hash: UInt64
    /// Samples, chunks and metadata.
    package let state: Mutex<SeriesState>
    /// Whether a WAL series record for this series has been written in this WAL. Written under
    /// the WAL's lock (or by the replay, before appends start), read without the series' lock:
    /// every logged sample checks it.
    package let loggedToWAL = Atomic<Bool>(false)

    /// Creates an empty series.
    package init(ref: UInt64, labels: Labels, hash: UInt64) {
        self.ref = ref
        self.labels = labels
        self.hash = hash
        self.state = Mutex(SeriesState())
    }
}

@inline(__always)
func floorDiv(_ a: Int64, _ b: Int64) -> Int64 {
    let q = a / b
    return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q
}
