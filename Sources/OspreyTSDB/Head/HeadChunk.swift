package import OspreyEncoding
package import OspreyModel

/// An immutable, completed XOR chunk of a head series.
package struct HeadChunk: Sendable {
    /// Timestamp of the first sample (ms).
    package var minTimeMs: Int64
    /// Timestamp of the last sample (ms).
    package var maxTimeMs: Int64
    /// Prometheus XOR chunk bytes (encoding 1), including the sample-count header.
    package var bytes: [UInt8]

    /// Creates a chunk.
    package init(minTimeMs: Int64, maxTimeMs: Int64, bytes: [UInt8]) {
        self.minTimeMs = minTimeMs
        self.maxTimeMs = maxTimeMs
        self.bytes = bytes
    }
}

extension HeadChunk {
    /// `bytes` in an array of exactly their size.
    package static func compacted(_ bytes: [UInt8]) -> [UInt8] {
        guard bytes.capacity > bytes.count else { return bytes }
        return [UInt8](unsafeUninitializedCapacity: bytes.count) { buffer, initialized in
            initialized = buffer.initialize(fromContentsOf: bytes)
        }
    }

    /// `samples` (sorted by time, no timestamp twice) as XOR chunks of at most
    /// `samplesPerChunk` samples each.
    package static func encode(_ samples: [Sample], samplesPerChunk: Int) -> [HeadChunk] {
        var out: [HeadChunk] = []
        var start = 0
        while start < samples.count {
            let end = min(samples.count, start + samplesPerChunk)
            var encoder = XORChunkEncoder()
            for sample in samples[start..<end] { _ = encoder.append(timestampMs: sample.timestampMs, value: sample.value) }
            out.append(HeadChunk(minTimeMs: samples[start].timestampMs, maxTimeMs: samples[end - 1].timestampMs, bytes: compacted(encoder.bytes)))
            start = end
        }
        return out
    }
}
