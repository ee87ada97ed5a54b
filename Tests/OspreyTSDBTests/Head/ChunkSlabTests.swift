import OspreyEncoding
@testable import OspreyTSDB
import Testing

struct ChunkSlabTests {
    private func encoded(_ seed: Int, samples: Int) -> [UInt8] {
        var encoder = XORChunkEncoder()
        for i in 0..<samples {
            encoder.append(timestampMs: Int64(i * 15_000 + seed), value: Double((i * 7919 + seed) % 1000) / 7)
        }
        return encoder.bytes
    }

    @Test func chunksKeepTheirBytesAcrossSlabsAndLargeOnesStayApart() throws {
        let slabs = ChunkSlabAllocator()
        var chunks: [(HeadChunk, [UInt8])] = []
        // About 1.2 KB each: enough chunks to fill several slabs.
        for seed in 0..<3000 {
            let bytes = encoded(seed, samples: 120)
            chunks.append((slabs.chunk(minTimeMs: Int64(seed), maxTimeMs: Int64(seed) + 1, bytes: bytes), bytes))
        }
        #expect(slabs.slabsMappedTotal >= 2)
        for (chunk, bytes) in chunks {
            #expect(chunk.bytes == bytes)
            #expect(chunk.byteCount == bytes.count)
            #expect(chunk.declaredSampleCount == 120)
            var decoder = try XORChunkDecoder(chunk.bytes)
            var count = 0
            while try decoder.next() { count += 1 }
            #expect(count == 120)
        }
        let before = slabs.slabsMappedTotal
        let large = [UInt8](repeating: 7, count: ChunkSlabAllocator.slabBytes / 2)
        let apart = slabs.chunk(minTimeMs: 0, maxTimeMs: 1, bytes: large)
        #expect(apart.bytes == large && slabs.slabsMappedTotal == before)
    }

    @Test func aSlabIsUnmappedWhenItsLastChunkGoes() {
        let slabs = ChunkSlabAllocator()
        weak var firstSlab: ChunkSlab?
        do {
            var chunks: [HeadChunk] = []
            for seed in 0..<2000 { chunks.append(slabs.chunk(minTimeMs: 0, maxTimeMs: 1, bytes: encoded(seed, samples: 120))) }
            firstSlab = chunks[0].slabForTesting
            #expect(firstSlab != nil)
            chunks.removeAll()
        }
        // The allocator still fills the newest slab; the first one is gone with its chunks.
        #expect(firstSlab == nil)
    }
}
