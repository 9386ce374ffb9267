import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Crash-safe file replacement: a temp file in the same directory, fsync, rename, fsync of
/// the directory. Readers see the old content or the new one, never a mix; a failure leaves
/// the old file exactly as it was.
public enum AtomicFile {
    /// Writes `data` to `path` atomically with the given permission bits.
    ///
    /// - Throws: `IconError.Code.io` naming the path when any step fails.
    public static func write(_ data: some DataProtocol, to path: String, mode: mode_t = 0o644) throws {
        let directory = (path as NSString).deletingLastPathComponent
        let base = (path as NSString).lastPathComponent
        let dir = directory.isEmpty ? "." : directory
        var template = Array("\(dir)/.\(base).tmp-XXXXXX".utf8CString)
        let fd = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
        guard fd >= 0 else {
            throw IconError(.io, "cannot create a temporary file in \(dir): \(errnoText())")
        }
        let tempPath = String(cString: template.map { UInt8(bitPattern: $0) } + [0])
        var renamed = false
        defer {
            if !renamed { unlink(tempPath) }
        }
        do {
            defer { close(fd) }
            let bytes = Array(data)
            var offset = 0
            while offset < bytes.count {
                let n = bytes[offset...].withUnsafeBytes { Glibc.write(fd, $0.baseAddress!, $0.count) }
                if n < 0 {
                    if errno == EINTR { continue }
                    throw IconError(.io, "cannot write \(path): \(errnoText())")
                }
                offset += n
            }
            guard fchmod(fd, mode) == 0 else {
                throw IconError(.io, "cannot set the mode of \(path): \(errnoText())")
            }
            guard fsync(fd) == 0 else {
                throw IconError(.io, "cannot fsync \(path): \(errnoText())")
            }
        }
        try commit(tempPath: tempPath, to: path)
        renamed = true
    }

    /// Renames a finished temp file over `path` and fsyncs the directory.
    ///
    /// - Throws: `IconError.Code.io` naming the path.
    public static func commit(tempPath: String, to path: String) throws {
        guard rename(tempPath, path) == 0 else {
            throw IconError(.io, "cannot rename \(tempPath) to \(path): \(errnoText())")
        }
        syncDirectory(of: path)
    }

    /// Replaces the symlink at `path` with one pointing to `target`, atomically.
    ///
    /// - Throws: `IconError.Code.io` naming the link.
    public static func symlink(_ target: String, at path: String) throws {
        let directory = (path as NSString).deletingLastPathComponent
        let temp = "\(directory.isEmpty ? "." : directory)/.\((path as NSString).lastPathComponent).tmp-\(UInt32.random(in: 0...UInt32.max))"
        unlink(temp)
        guard Glibc.symlink(target, temp) == 0 else {
            throw IconError(.io, "cannot create symlink \(temp): \(errnoText())")
        }
        guard rename(temp, path) == 0 else {
            let text = errnoText()
            unlink(temp)
            throw IconError(.io, "cannot replace symlink \(path): \(text)")
        }
        syncDirectory(of: path)
    }

    /// Fsyncs the directory that holds `path`, so a rename survives power loss.
    public static func syncDirectory(of path: String) {
        let directory = (path as NSString).deletingLastPathComponent
        let dfd = open(directory.isEmpty ? "." : directory, O_RDONLY | O_DIRECTORY)
        if dfd >= 0 {
            fsync(dfd)
            close(dfd)
        }
    }
}

/// The text of the current `errno`.
public func errnoText() -> String {
    String(cString: strerror(errno))
}
