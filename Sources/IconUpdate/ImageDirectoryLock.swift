import Foundation
import IconCore

#if canImport(Glibc)
import Glibc
#endif

/// An exclusive `flock` on `<image-dir>/.fetch.lock`, so two fetches never interleave: the
/// second would otherwise delete the first one's partial download as stale.
///
/// The lock goes away with the process, so a crash never leaves the directory locked.
struct ImageDirectoryLock {
    private let fd: Int32

    /// Takes the lock without waiting.
    ///
    /// - Throws: `.io` naming the lock file when it cannot be opened, or when another fetch
    ///   holds it.
    init(directory: ImageDirectory) throws {
        let path = "\(directory.path)/.fetch.lock"
        let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard fd >= 0 else {
            throw IconError(.io, "cannot open lock file \(path): \(errnoText())")
        }
        guard flock(fd, LOCK_EX | LOCK_NB) == 0 else {
            let busy = errno == EWOULDBLOCK
            let text = errnoText()
            close(fd)
            throw IconError(
                .io, busy ? "another fetch is running in \(directory.path) (\(path) is locked)" : "cannot lock \(path): \(text)")
        }
        self.fd = fd
    }

    /// Releases the lock.
    func release() {
        close(fd)
    }
}
