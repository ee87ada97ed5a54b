package import OspreyEncoding
package import OspreyModel

/// An immutable, completed XOR chunk of a head series.
package struct HeadChunk: Sendable {
    /// Where the bytes are: an array of their own, or a range of a shared slab
    /// (``ChunkSlabAllocator``).
    private enum Storage: Sendable {
        case array([UInt8])
        case slab(ChunkSlab, offset: Int32, count: Int32)
    }

    /// Timestamp of the first sample (ms).
    package var minTimeMs: Int64
    /// Timestamp of the last sample (ms).
    package var maxTimeMs: Int64
    private var storage: Storage

    /// Creates a chunk owning `bytes`.
    package init(minTimeMs: Int64, maxTimeMs: Int64, bytes: [UInt8]) {
        self.minTimeMs = minTimeMs
        self.maxTimeMs = maxTimeMs
        self.storage = .array(bytes)
    }

    /// Creates a chunk whose bytes are `count` bytes at `offset` in `slab`.
    init(minTimeMs: Int64, maxTimeMs: Int64, slab: ChunkSlab, offset: Int, count: Int) {
        self.minTimeMs = minTimeMs
        self.maxTimeMs = maxTimeMs
        self.storage = .slab(slab, offset: Int32(offset), count: Int32(count))
    }

    /// Prometheus XOR chunk bytes (encoding 1), including the sample-count header (a copy when
    /// they live in a slab).
    package var bytes: [UInt8] {
        switch storage {
        case .array(let bytes):
            return bytes
        case .slab(let slab, let offset, let count):
            return Array(UnsafeRawBufferPointer(start: slab.base + Int(offset), count: Int(count)))
        }
    }

    /// The slab holding the bytes, if any (for tests).
    var slabForTesting: ChunkSlab? {
        if case .slab(let slab, _, _) = storage { return slab }
        return nil
    }

    /// The number of bytes.
    package var byteCount: Int {
        switch storage {
        case .array(let bytes): return bytes.count
        case .slab(_, _, let count): return Int(count)
        }
    }

    /// The sample count in the chunk's header (0 for a chunk too short to have one).
    package var declaredSampleCount: Int {
        switch storage {
        case .array(let bytes):
            return bytes.count >= 2 ? Int(bytes[0]) << 8 | Int(bytes[1]) : 0
        case .slab(let slab, let offset, let count):
            guard count >= 2 else { return 0 }
            let header = UnsafeRawPointer(slab.base + Int(offset)).assumingMemoryBound(to: UInt8.self)
            return Int(header[0]) << 8 | Int(header[1])
        }
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
