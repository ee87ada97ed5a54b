import Glibc
package import OspreyStorage

/// An exclusive `flock(2)` on `DATA/lock`, the same file and lock Prometheus takes, so that two
/// processes (two Ospreys, or Osprey and Prometheus) never write one data directory at once.
/// The kernel releases the lock when the process dies, so `kill -9` leaves nothing to clean up.
package final class DirectoryLock: Sendable {
    private let descriptor: Int32

    /// Takes the lock; throws `.unavailable` naming the directory when another process holds it.
    package init(directory: String) throws(StorageError) {
        let path = directory.hasSuffix("/") ? directory + "lock" : directory + "/lock"
        let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard fd >= 0 else {
            throw StorageError(code: .io, message: "cannot open lock file \(path): \(String(cString: strerror(errno)))")
        }
        guard flock(fd, LOCK_EX | LOCK_NB) == 0 else {
            close(fd)
            throw StorageError(
                code: .unavailable,
                message: "data directory \(directory) is in use by another process (Osprey or Prometheus); stop it or choose another --storage.path")
        }
        descriptor = fd
    }

    deinit {
        flock(descriptor, LOCK_UN)
        close(descriptor)
    }
}
