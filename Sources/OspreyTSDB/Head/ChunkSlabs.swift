#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Synchronization

/// One block of memory holding completed head chunks back to back, mapped outside malloc's
/// heap and unmapped as a whole when the last chunk in it goes (the chunks hold it).
///
/// Bytes are written once, under the allocator's lock, before any chunk refers to them, and
/// never change after: readers need no lock, hence `@unchecked Sendable`.
package final class ChunkSlab: @unchecked Sendable {
    let base: UnsafeMutableRawPointer
    let capacity: Int
    /// Bytes handed out (written under ``ChunkSlabAllocator``'s lock).
    fileprivate var used = 0

    fileprivate init?(capacity: Int) {
        guard let mapped = mmap(nil, capacity, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0), mapped != MAP_FAILED else {
            return nil
        }
        base = mapped
        self.capacity = capacity
    }

    deinit {
        munmap(base, capacity)
    }
}

/// Where completed head chunks keep their bytes.
///
/// A chunk is cut once and lives until head truncation drops every chunk of its block range,
/// and chunks are cut in time order: packed into shared slabs, the chunks of one range die
/// together and their slabs go back to the system whole. As separate heap arrays they left
/// the heap riddled with chunk-sized holes around the long-lived series objects (a third of
/// the resident memory after a head truncation), and cost 48 bytes of headers each.
package final class ChunkSlabAllocator: Sendable {
    /// Slab size; chunks larger than a quarter of it stay in their own arrays.
    package static let slabBytes = 1 << 20

    private let current = Mutex<ChunkSlab?>(nil)
    private let slabsMapped = Atomic<Int>(0)

    package init() {}

    /// A chunk holding a copy of `bytes`.
    package func chunk(minTimeMs: Int64, maxTimeMs: Int64, bytes: [UInt8]) -> HeadChunk {
        guard bytes.count <= Self.slabBytes / 4, bytes.count > 0 else {
            return HeadChunk(minTimeMs: minTimeMs, maxTimeMs: maxTimeMs, bytes: HeadChunk.compacted(bytes))
        }
        let placed: (ChunkSlab, Int)? = current.withLock { slab in
            if let open = slab, open.used + bytes.count <= open.capacity {
                // Room left in the current slab.
            } else {
                slab = ChunkSlab(capacity: Self.slabBytes)
                if slab != nil { slabsMapped.add(1, ordering: .relaxed) }
            }
            guard let target = slab else { return nil }
            let offset = target.used
            bytes.withUnsafeBytes { source in
                guard let from = source.baseAddress else { return }
                (target.base + offset).copyMemory(from: from, byteCount: source.count)
            }
            target.used += bytes.count
            return (target, offset)
        }
        guard let (slab, offset) = placed else {
            // No memory could be mapped: the heap will do.
            return HeadChunk(minTimeMs: minTimeMs, maxTimeMs: maxTimeMs, bytes: HeadChunk.compacted(bytes))
        }
        return HeadChunk(minTimeMs: minTimeMs, maxTimeMs: maxTimeMs, slab: slab, offset: offset, count: bytes.count)
    }

    /// Slabs mapped since the start (a counter).
    package var slabsMappedTotal: Int { slabsMapped.load(ordering: .relaxed) }
}
