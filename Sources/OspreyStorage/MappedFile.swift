#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A file mapped read-only into memory: its pages are read on demand by the kernel and never
/// copied into the heap. Unmapped when released.
package final class MappedFile: @unchecked Sendable {
    package let path: String
    /// The whole file (empty for an empty file).
    package let bytes: UnsafeRawBufferPointer

    /// Maps the file at `path`; throws `.io` when it cannot be opened or mapped.
    package init(path: String) throws(StorageError) {
        self.path = path
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { throw StorageError(code: .io, message: "cannot open \(path)") }
        defer { _ = close(descriptor) }
        var info = stat()
        guard fstat(descriptor, &info) == 0 else { throw StorageError(code: .io, message: "cannot stat \(path)") }
        let size = Int(info.st_size)
        guard size > 0 else {
            bytes = UnsafeRawBufferPointer(start: nil, count: 0)
            return
        }
        guard let address = mmap(nil, size, PROT_READ, MAP_SHARED, descriptor, 0), address != MAP_FAILED else {
            throw StorageError(code: .io, message: "cannot map \(path)")
        }
        bytes = UnsafeRawBufferPointer(start: address, count: size)
    }

    /// Drops the file's pages from this process' page tables (they stay in the page cache, and
    /// a later read maps them again): what loading, persisting or compacting read of a block
    /// otherwise stays resident in the process for as long as the block is open.
    package func releaseResidentPages() {
        guard let base = bytes.baseAddress, bytes.count > 0 else { return }
        _ = madvise(UnsafeMutableRawPointer(mutating: base), bytes.count, MADV_DONTNEED)
    }

    deinit {
        if let base = bytes.baseAddress { munmap(UnsafeMutableRawPointer(mutating: base), bytes.count) }
    }
}
