public import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// Opens only regular files. A FIFO named `1700000000.iso` blocks `open(2)` until someone
/// writes to it, and a device node reads forever; neither is an image.
public enum RegularFile {
    /// What the entry at `path` is when it is not a regular file ("a FIFO", "a directory",
    /// "a symbolic link", ...), from `lstat` (nothing is opened or followed); nil for a regular
    /// file or when there is no entry.
    public static func otherKind(atPath path: String) -> String? {
        var info = stat()
        guard lstat(path, &info) == 0 else { return nil }
        return describe(mode: info.st_mode)
    }

    /// Like ``otherKind(atPath:)``, but a symbolic link counts as what it points to ("a
    /// dangling symbolic link" when that is missing).
    public static func otherKind(followingLinksAt path: String) -> String? {
        guard otherKind(atPath: path) == "a symbolic link" else { return otherKind(atPath: path) }
        var info = stat()
        guard stat(path, &info) == 0 else { return "a dangling symbolic link" }
        return describe(mode: info.st_mode).map { "a symbolic link to \($0)" }
    }

    /// The size of the regular file at `path`; nil when there is no entry or it is anything
    /// else. A symbolic link counts as what it points to when `followingLinks`, else as a link.
    /// Nothing is opened.
    public static func size(atPath path: String, followingLinks: Bool) -> Int? {
        var info = stat()
        let found = followingLinks ? stat(path, &info) : lstat(path, &info)
        guard found == 0, (info.st_mode & S_IFMT) == S_IFREG else { return nil }
        return Int(info.st_size)
    }

    /// The kind of file `mode` names, nil for a regular file.
    static func describe(mode: mode_t) -> String? {
        switch mode & S_IFMT {
        case S_IFREG: nil
        case S_IFDIR: "a directory"
        case S_IFLNK: "a symbolic link"
        case S_IFIFO: "a FIFO"
        case S_IFSOCK: "a socket"
        case S_IFCHR: "a character device"
        case S_IFBLK: "a block device"
        default: "not a regular file"
        }
    }

    /// Opens `path` for reading, refusing anything but a regular file (a symlink to one is
    /// followed). The open itself is non-blocking, so a FIFO put there after a caller's check
    /// cannot hang it; the descriptor is blocking again when returned. The caller closes it.
    ///
    /// - Throws: `IconError.Code.io` naming the path: it cannot be opened, or it is not a
    ///   regular file.
    public static func openForReading(_ path: String) throws -> Int32 {
        let fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY)
        guard fd >= 0 else {
            throw IconError(.io, "cannot open \(path): \(errnoText())")
        }
        var info = stat()
        guard fstat(fd, &info) == 0 else {
            let text = errnoText()
            close(fd)
            throw IconError(.io, "cannot stat \(path): \(text)")
        }
        if let kind = describe(mode: info.st_mode) {
            close(fd)
            throw IconError(.io, "\(path) is \(kind), not a regular file")
        }
        let flags = fcntl(fd, F_GETFL)
        if flags >= 0 { _ = fcntl(fd, F_SETFL, flags & ~O_NONBLOCK) }
        return fd
    }

    /// The whole content of the regular file at `path`; nil when there is no such file.
    ///
    /// - Throws: `IconError.Code.io` naming the path: it is not a regular file (a FIFO is
    ///   never waited on), or it cannot be read.
    public static func contents(atPath path: String) throws -> Data? {
        var info = stat()
        if stat(path, &info) != 0, errno == ENOENT { return nil }
        let fd = try openForReading(path)
        defer { close(fd) }
        var data = Data()
        var buffer = [UInt8](repeating: 0, count: 64 * 1024)
        while true {
            let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress!, $0.count) }
            if n < 0 {
                if errno == EINTR { continue }
                throw IconError(.io, "cannot read \(path): \(errnoText())")
            }
            if n == 0 { return data }
            data.append(contentsOf: buffer[0..<n])
        }
    }
}
