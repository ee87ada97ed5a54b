package import OspreyEncoding

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
