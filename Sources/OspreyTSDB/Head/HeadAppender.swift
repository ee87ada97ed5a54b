import Synchronization
import CoreMetrics
package import OspreyModel
package import OspreyStorage

/// A sample an appender buffered until its commit.
package struct PendingSample {
    package var series: MemSeries
    package var timestampMs: Int64
    package var value: Double
}

/// A batch of writes into the head (the head's ``MetricAppender``).
///
/// Samples are checked against the series when appended (so errors are per sample), buffered,
/// logged to the WAL on ``commit()`` and only then applied to memory.
package final class HeadAppender: MetricAppender {
    private let head: Head
    private var samples: [PendingSample] = []
    private var exemplars: [(MemSeries, Exemplar)] = []
    private var metadata: [(MemSeries, MetricMetadata)] = []
    /// Identifies this appender's buffered samples in ``SeriesState/pendingAppender``; changes
    /// after every commit or rollback.
    private var id: UInt64 = HeadAppender.nextID()
    private var seriesCreated = 0
    /// The oldest sample buffered since the last commit or rollback (`.max`: none), as
    /// registered in ``Head/inFlight``.
    private var oldestBuffered = Int64.max
    private var lastSeries: MemSeries?

    private static let lastID = Atomic<UInt64>(0)

    private static func nextID() -> UInt64 {
        lastID.add(1, ordering: .relaxed).newValue
    }

    init(head: Head) {
        self.head = head
    }

    package func append(_ ref: SeriesRef?, labels: Labels, timestampMs: Int64, value: Double) throws(StorageError) -> SeriesRef {
        let series = try resolve(ref, labels)
        guard timestampMs >= head.appendableMinTimeMs else {
            throw StorageError(code: .outOfBounds, message: "out of bounds: sample at \(timestampMs) is older than the head")
        }
        let window = head.options.outOfOrderTimeWindowMs
        let id = self.id
        // In-batch ordering uses the series' pending marker. If another appender buffers a
        // sample for the same series in between, this batch's marker is overwritten and a later
        // in-batch out-of-order sample is checked only against committed data; it then lands in
        // the out-of-order buffer at commit. It is never lost, only not rejected.
        let verdict: Result<Appendability, StorageErrorCodeOnly> = series.state.withLock { state in
            if state.pendingAppender == id && timestampMs <= state.pendingMaxTimeMs {
                if timestampMs == state.pendingMaxTimeMs {
                    return value.bitPattern == state.pendingLastValue.bitPattern ? .success(.duplicate) : .failure(.duplicateSampleForTimestamp)
                }
                if window == 0 { return .failure(.outOfOrderSample) }
            }
            let verdict = state.appendability(timestampMs: timestampMs, value: value, outOfOrderWindowMs: window)
            if case .success(let kind) = verdict, kind != .duplicate {
                if state.pendingAppender != id || timestampMs > state.pendingMaxTimeMs {
                    state.pendingAppender = id
                    state.pendingMaxTimeMs = timestampMs
                    state.pendingLastValue = value
                }
            }
            return verdict
        }
        switch verdict {
        case .success(.duplicate):
            return SeriesRef(series.ref)
        case .success:
            samples.append(PendingSample(series: series, timestampMs: timestampMs, value: value))
            if timestampMs < oldestBuffered {
                oldestBuffered = timestampMs
                head.inFlight.register(id, timestampMs)
            }
            return SeriesRef(series.ref)
        case .failure(let code):
            throw rejection(code, series, timestampMs)
        }
    }

    package func appendHistogram(_ ref: SeriesRef?, labels: Labels, timestampMs: Int64, histogram: FloatHistogram) throws(StorageError) -> SeriesRef {
        throw StorageError(code: .unsupported, message: "native histogram samples are not stored by this version of Osprey; send classic histograms")
    }

    package func appendExemplar(_ ref: SeriesRef?, labels: Labels, exemplar: Exemplar) throws(StorageError) -> SeriesRef {
        let series = try resolve(ref, labels)
        exemplars.append((series, exemplar))
        return SeriesRef(series.ref)
    }

    package func updateMetadata(_ ref: SeriesRef?, labels: Labels, metadata newValue: MetricMetadata) throws(StorageError) -> SeriesRef {
        let series = try resolve(ref, labels)
        let current = series.state.withLock { $0.metadata }
        if current != newValue { metadata.append((series, newValue)) }
        return SeriesRef(series.ref)
    }

    package func appendStartTimestamp(_ ref: SeriesRef?, labels: Labels, startTimestampMs: Int64, timestampMs: Int64) throws(StorageError) -> SeriesRef {
        let series = try resolve(ref, labels)
        guard startTimestampMs < timestampMs else { return SeriesRef(series.ref) }
        let id = self.id
        let newest = series.state.withLock { max($0.maxTimeMs, $0.pendingAppender == id ? $0.pendingMaxTimeMs : .min) }
        // As Prometheus' AppendCTZeroSample: only a start newer than what is stored adds a zero.
        guard startTimestampMs > newest else { return SeriesRef(series.ref) }
        return try append(SeriesRef(series.ref), labels: labels, timestampMs: startTimestampMs, value: 0)
    }

    package func commit() async throws(StorageError) -> AppendSummary {
        defer { reset() }
        guard !samples.isEmpty || !exemplars.isEmpty || !metadata.isEmpty else {
            return AppendSummary(seriesCreated: seriesCreated)
        }
        if let wal = head.wal {
            try await wal.log(samples: samples, exemplars: exemplars, metadata: metadata)
        }
        applyToMemory()
        head.metrics.commits.increment()
        head.metrics.samplesAppended.increment(by: Int64(samples.count))
        return AppendSummary(floatSamples: samples.count, exemplars: exemplars.count, seriesCreated: seriesCreated)
    }

    package func rollback() {
        reset()
    }

    package func reserveCapacity(samples count: Int) {
        samples.reserveCapacity(samples.count + count)
    }

    private func applyToMemory() {
        let options = head.options
        var low = Int64.max
        var high = Int64.min
        var index = 0
        while index < samples.count {
            let series = samples[index].series
            var end = index
            while end < samples.count && samples[end].series === series { end += 1 }
            let range = index..<end
            withLiveState(of: series) { state in
                for item in samples[range] {
                    state.append(timestampMs: item.timestampMs, value: item.value, samplesPerChunk: options.samplesPerChunk, chunkRangeMs: options.chunkRangeMs, slabs: head.chunkSlabs)
                }
            }
            for item in samples[range] {
                low = min(low, item.timestampMs)
                high = max(high, item.timestampMs)
            }
            index = end
        }
        for (series, exemplar) in exemplars {
            withLiveState(of: series) { state in
                if state.exemplars.count >= 16 { state.exemplars.removeFirst() }
                state.exemplars.append(exemplar)
            }
        }
        for (series, value) in metadata {
            withLiveState(of: series) { $0.metadata = value }
        }
        if low <= high { head.noteTime(min: low, max: high) }
    }

    /// Runs `body` on the state of `series`, or, when the head dropped the series for being
    /// empty after this appender resolved it, of the series put back in its place.
    private func withLiveState(of series: MemSeries, _ body: (inout SeriesState) -> Void) {
        var target = series
        while true {
            let done = target.state.withLock { state -> Bool in
                guard !state.removed else { return false }
                body(&state)
                return true
            }
            if done { return }
            target = head.restore(target)
        }
    }

    private func resolve(_ ref: SeriesRef?, _ labels: Labels) throws(StorageError) -> MemSeries {
        if let ref, ref.rawValue != 0 {
            if let cached = lastSeries, cached.ref == ref.rawValue { return cached }
            if let found = head.series.series(ref: ref.rawValue) {
                lastSeries = found
                return found
            }
            if labels.isEmpty {
                throw StorageError(code: .unknownSeriesRef, message: "unknown series reference \(ref.rawValue)")
            }
        }
        guard !labels.isEmpty else {
            throw StorageError(code: .invalidLabels, message: "series has no labels")
        }
        if let cached = lastSeries, cached.labels == labels { return cached }
        let (series, created) = head.getOrCreate(labels: labels)
        if created { seriesCreated += 1 }
        lastSeries = series
        return series
    }

    private func rejection(_ code: StorageErrorCodeOnly, _ series: MemSeries, _ timestampMs: Int64) -> StorageError {
        head.metrics.samplesRejected.increment()
        switch code {
        case .outOfOrderSample:
            return StorageError(code: .outOfOrderSample, message: "out of order sample")
        case .duplicateSampleForTimestamp:
            return StorageError(code: .duplicateSampleForTimestamp, message: "duplicate sample for timestamp")
        case .tooOldSample:
            return StorageError(code: .tooOldSample, message: "too old sample")
        }
    }

    deinit {
        if oldestBuffered != .max { head.inFlight.remove(id) }
    }

    private func reset() {
        if oldestBuffered != .max {
            head.inFlight.remove(id)
            oldestBuffered = .max
        }
        samples.removeAll(keepingCapacity: true)
        exemplars.removeAll()
        metadata.removeAll()
        id = HeadAppender.nextID()
        seriesCreated = 0
        lastSeries = nil
    }
}
