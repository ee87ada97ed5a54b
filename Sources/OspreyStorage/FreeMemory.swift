#if canImport(Glibc)
import Glibc
#endif

/// Hands memory the process freed back to the operating system. glibc's allocator keeps freed
/// pages in its arenas; after head truncation (hours of chunks freed at once) they would stay
/// resident although nothing uses them. `malloc_trim` is looked up at run time: Swift's Glibc
/// module does not export `malloc.h`, and other C libraries do not have it.
package enum FreeMemory {
    private typealias Trim = @convention(c) (Int) -> Int32
    private typealias Option = @convention(c) (Int32, Int32) -> Int32

    private static let trim: Trim? = {
        #if canImport(Glibc)
        guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "malloc_trim") else { return nil }
        return unsafeBitCast(symbol, to: Trim.self)
        #else
        return nil
        #endif
    }()

    package static func release() {
        _ = trim?(0)
    }

    /// glibc's `M_ARENA_MAX`.
    private static let arenaMaxOption: Int32 = -8

    /// Caps glibc's malloc arenas at one per four cores (at least one) unless the environment
    /// sets `MALLOC_ARENA_MAX`. By default glibc gives each thread that meets contention an
    /// arena of its own, up to eight per core, and memory freed in one arena serves only the
    /// threads of that arena: ingest threads then each keep a heap riddled with the holes of
    /// freed request buffers. Measured (bench/compare/storage.py, 100k series, 2 cores):
    /// resident anonymous memory after a head truncation 258 MiB with glibc's default, 140 MiB
    /// with one arena, at the same ingest rate. Call first thing in `main`.
    package static func limitArenas(cores: Int) {
        #if canImport(Glibc)
        guard getenv("MALLOC_ARENA_MAX") == nil,
            let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "mallopt")
        else { return }
        let mallopt = unsafeBitCast(symbol, to: Option.self)
        _ = mallopt(arenaMaxOption, Int32(max(1, cores / 4)))
        #endif
    }
}
