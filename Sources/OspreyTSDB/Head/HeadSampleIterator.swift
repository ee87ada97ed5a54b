import OspreyEncoding
package import OspreyModel
package import OspreyStorage

/// Iterates a series snapshot: in-order chunks merged with out-of-order samples, restricted to
/// the querier's time range.
package final class HeadSampleIterator: SampleIterator {
    private let snapshot: SeriesSnapshot
    private let minTimeMs: Int64
    private let maxTimeMs: Int64
    private var chunkIndex = 0
    /// The chunk being decoded, mutated in place (never copied per sample); meaningful while
    /// `decoding` is true.
    private var decoder = XORChunkDecoder.empty
    private var decoding = false
    private var chunkSample: Sample?
    private var outOfOrderIndex = 0
    private var current = Sample(timestampMs: .min, value: 0)
    private var started = false
    private var exhausted = false

    init(snapshot: SeriesSnapshot, minTimeMs: Int64, maxTimeMs: Int64) {
        self.snapshot = snapshot
        self.minTimeMs = minTimeMs
        self.maxTimeMs = maxTimeMs
    }

    package var floatSample: Sample { current }
    package var timestampMs: Int64 { current.timestampMs }
    package var histogramSample: (timestampMs: Int64, histogram: FloatHistogram) {
        (current.timestampMs, FloatHistogram(schema: 0, count: 0, sum: 0))
    }

    package func next() -> SampleValueType {
        guard !exhausted else { return .none }
        if !started {
            started = true
            advanceChunkSample()
        }
        while true {
            let fromOutOfOrder = outOfOrderIndex < snapshot.outOfOrder.count ? snapshot.outOfOrder[outOfOrderIndex] : nil
            let candidate: Sample
            switch (chunkSample, fromOutOfOrder) {
            case (nil, nil):
                exhausted = true
                return .none
            case (let a?, nil):
                candidate = a
                advanceChunkSample()
            case (nil, let b?):
                candidate = b
                outOfOrderIndex += 1
            case (let a?, let b?):
                if a.timestampMs <= b.timestampMs {
                    candidate = a
                    advanceChunkSample()
                    if a.timestampMs == b.timestampMs { outOfOrderIndex += 1 }
                } else {
                    candidate = b
                    outOfOrderIndex += 1
                }
            }
            if candidate.timestampMs < minTimeMs { continue }
            if candidate.timestampMs > maxTimeMs {
                exhausted = true
                return .none
            }
            current = candidate
            return .float
        }
    }

    package func seek(to timestampMs: Int64) -> SampleValueType {
        if started && !exhausted && current.timestampMs >= timestampMs { return .float }
        while true {
            let kind = next()
            if kind == .none || current.timestampMs >= timestampMs { return kind }
        }
    }

    /// Whole chunks decoded one call each, straight into `buffer`, when no out-of-order
    /// samples interleave with them; otherwise the sample-by-sample merge.
    package func appendFloats(to buffer: inout [Sample]) -> SampleValueType {
        guard !started, snapshot.outOfOrder.isEmpty, Self.sampleLayoutIsPacked else {
            while next() == .float { buffer.append(current) }
            return .none
        }
        started = true
        exhausted = true
        Self.appendChunks(snapshot.chunks, minTimeMs: minTimeMs, maxTimeMs: maxTimeMs, to: &buffer)
        return .none
    }

    /// Decodes the chunks overlapping `[minTimeMs, maxTimeMs]` in bulk into `buffer`, keeping
    /// the samples in that range (no out-of-order samples to merge).
    static func appendChunks(_ allChunks: [HeadChunk], minTimeMs: Int64, maxTimeMs: Int64, to buffer: inout [Sample]) {
        let chunks = allChunks.lazy.filter { $0.maxTimeMs >= minTimeMs && $0.minTimeMs <= maxTimeMs }
        buffer.reserveCapacity(buffer.count + chunks.reduce(0) { $0 + $1.declaredSampleCount })
        for chunk in chunks {
            guard var decoder = try? XORChunkDecoder(chunk.bytes), decoder.count > 0 else { continue }
            let start = buffer.count
            let capacity = decoder.count
            buffer.append(contentsOf: repeatElement(Sample(timestampMs: 0, value: 0), count: capacity))
            let written = buffer.withUnsafeMutableBytes { raw -> Int in
                guard let base = raw.baseAddress else { return 0 }
                return decoder.decode(into: base + start * MemoryLayout<Sample>.stride, capacity: capacity)
            }
            buffer.removeLast(capacity - written)
            if chunk.minTimeMs < minTimeMs || chunk.maxTimeMs > maxTimeMs {
                // Only the chunks at the edges of the range hold samples outside it.
                let end = buffer[start...].firstIndex { $0.timestampMs > maxTimeMs } ?? buffer.count
                buffer.removeSubrange(end...)
                let first = buffer[start...].firstIndex { $0.timestampMs >= minTimeMs } ?? buffer.count
                buffer.removeSubrange(start..<first)
            }
        }
    }

    /// Whether `Sample` is laid out as ``XORChunkDecoder/decode(into:capacity:)`` writes.
    static let sampleLayoutIsPacked = MemoryLayout<Sample>.stride == 16
        && MemoryLayout<Sample>.offset(of: \Sample.timestampMs) == 0 && MemoryLayout<Sample>.offset(of: \Sample.value) == 8


    private func advanceChunkSample() {
        while true {
            if decoding {
                if let next = try? decoder.nextSample() {
                    chunkSample = Sample(timestampMs: next.timestampMs, value: Double(bitPattern: next.valueBits))
                    return
                }
                decoding = false
            }
            // Skip chunks that end before the range.
            while chunkIndex < snapshot.chunks.count && snapshot.chunks[chunkIndex].maxTimeMs < minTimeMs {
                chunkIndex += 1
            }
            guard chunkIndex < snapshot.chunks.count, snapshot.chunks[chunkIndex].minTimeMs <= maxTimeMs else {
                chunkSample = nil
                return
            }
            if let opened = try? XORChunkDecoder(snapshot.chunks[chunkIndex].bytes) {
                decoder = opened
                decoding = true
            }
            chunkIndex += 1
        }
    }
}
