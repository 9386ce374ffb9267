public import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Crash-safe file replacement: a temp file in the same directory, fsync, rename, fsync of
/// the directory. Readers see the old content or the new one, never a mix; a failure leaves
/// the old file exactly as it was.
///
/// Temp files are named `.<name>.tmp-<pid>-XXXXXX`, after the writing process, so a writer
/// killed with SIGKILL (which no cleanup survives) leaves a file that
/// ``removeStaleTemporaries(in:now:)`` recognises and removes once that process is gone.
public enum AtomicFile {
    /// Marks a temp file name; the writer's PID and a random suffix follow.
    static let temporaryMarker = ".tmp-"

    /// Temp files of earlier versions (`.<name>.tmp-XXXXXX`, no PID) count as stale after this long.
    public static let unattributedStaleAge: TimeInterval = 3600

    /// The temp name for `base` written by this process, before the random suffix.
    static func temporaryPrefix(for base: String) -> String {
        ".\(base)\(temporaryMarker)\(getpid())-"
    }

    /// Writes `data` to `path` atomically with the given permission bits.
    ///
    /// - Throws: `IconError.Code.io` naming the path when any step fails.
    public static func write(_ data: some DataProtocol, to path: String, mode: mode_t = 0o644) throws {
        let directory = (path as NSString).deletingLastPathComponent
        let base = (path as NSString).lastPathComponent
        let dir = directory.isEmpty ? "." : directory
        var template = Array("\(dir)/\(temporaryPrefix(for: base))XXXXXX".utf8CString)
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
        let base = (path as NSString).lastPathComponent
        let temp = "\(directory.isEmpty ? "." : directory)/\(temporaryPrefix(for: base))\(UInt32.random(in: 0...UInt32.max))"
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

    /// Removes the temp files of writes in `directory` whose writer is gone: named after a
    /// process that no longer exists, or, for names without a PID (earlier versions), older
    /// than ``unattributedStaleAge``. Only hidden `.<name>.tmp-...` files are touched, never
    /// what they were meant to replace.
    ///
    /// - Returns: the names removed.
    @discardableResult
    public static func removeStaleTemporaries(in directory: String, now: Date = Date()) -> [String] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        var removed: [String] = []
        for name in names.sorted() {
            guard let writer = writer(ofTemporaryName: name) else { continue }
            let path = "\(directory)/\(name)"
            var info = stat()
            guard lstat(path, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG || (info.st_mode & S_IFMT) == S_IFLNK else {
                continue
            }
            switch writer {
            case .process(let pid):
                // EPERM: the process exists (another user's); only ESRCH means it is gone.
                guard pid != getpid(), kill(pid, 0) != 0, errno == ESRCH else { continue }
            case .unknown:
                let modified = Date(timeIntervalSince1970: TimeInterval(info.st_mtim.tv_sec))
                guard now.timeIntervalSince(modified) > unattributedStaleAge else { continue }
            }
            if unlink(path) == 0 { removed.append(name) }
        }
        return removed
    }

    /// Who wrote a temp file.
    enum Writer: Equatable {
        case process(pid_t)
        /// A name of an earlier version, without the PID.
        case unknown
    }

    /// The writer of a temp file named `.<name>.tmp-<pid>-XXXXXX` (or `.<name>.tmp-XXXXXX`);
    /// nil for any other name.
    static func writer(ofTemporaryName name: String) -> Writer? {
        guard name.hasPrefix("."), let marker = name.range(of: temporaryMarker, options: .backwards),
            marker.lowerBound > name.index(after: name.startIndex)
        else { return nil }
        let tail = name[marker.upperBound...]
        let parts = tail.split(separator: "-", omittingEmptySubsequences: false)
        if parts.count == 2, let pid = pid_t(parts[0]), pid > 0, !parts[1].isEmpty {
            return .process(pid)
        }
        if parts.count == 1, !tail.isEmpty, tail.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber) }) {
            return .unknown
        }
        return nil
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
