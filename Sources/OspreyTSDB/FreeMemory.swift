#if canImport(Glibc)
import Glibc
#endif

/// Hands memory the process freed back to the operating system. glibc's allocator keeps freed
/// pages in its arenas; after head truncation (hours of chunks freed at once) they would stay
/// resident although nothing uses them. `malloc_trim` is looked up at run time: Swift's Glibc
/// module does not export `malloc.h`, and other C libraries do not have it.
enum FreeMemory {
    private typealias Trim = @convention(c) (Int) -> Int32

    private static let trim: Trim? = {
        #if canImport(Glibc)
        guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "malloc_trim") else { return nil }
        return unsafeBitCast(symbol, to: Trim.self)
        #else
        return nil
        #endif
    }()

    static func release() {
        _ = trim?(0)
    }
}
