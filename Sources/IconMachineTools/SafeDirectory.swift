import Foundation
public import IconCore

#if canImport(Glibc)
import Glibc
#endif

extension IconError.Code {
    /// An archive entry would land outside the destination or is of a refused kind.
    public static let unsafeArchiveEntry: IconError.Code = "unsafe-archive-entry"
}

/// Creates files, directories and links strictly inside one directory.
///
/// Every path is walked component by component with `openat(O_NOFOLLOW | O_DIRECTORY)`, so no
/// symlink is ever followed while extracting: not one from the archive, not one already in the
/// destination. Whatever links an archive makes, writes cannot leave the directory.
final class SafeDirectory {
    let rootFD: Int32
    let path: String

    /// Opens the directory at `path`, creating it and its parents if needed.
    ///
    /// - Throws: `.io` naming the directory.
    init(path: String) throws {
        do {
            try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        } catch {
            throw IconError(.io, "cannot create --dest-dir \(path)", cause: error)
        }
        rootFD = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard rootFD >= 0 else { throw IconError(.io, "cannot open --dest-dir \(path): \(errnoText())") }
        self.path = path
    }

    deinit { close(rootFD) }

    /// The directory holding `components.last`, created as needed; the caller closes it.
    func openParent(of components: [String], entry: String) throws -> Int32 {
        var fd = dup(rootFD)
        for component in components.dropLast() {
            var next = openat(fd, component, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
            if next < 0, errno == ENOENT {
                guard mkdirat(fd, component, 0o755) == 0 || errno == EEXIST else {
                    let text = errnoText()
                    close(fd)
                    throw IconError(.io, "cannot create a directory for \(entry) in \(path): \(text)")
                }
                next = openat(fd, component, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
            }
            let failure = errno
            close(fd)
            guard next >= 0 else {
                if failure == ELOOP || failure == ENOTDIR {
                    throw IconError(.unsafeArchiveEntry, "archive entry \(entry) passes through a symlink or a file; refused")
                }
                throw IconError(.io, "cannot open a directory for \(entry) in \(path): \(String(cString: strerror(failure)))")
            }
            fd = next
        }
        return fd
    }

    /// Removes a non-directory at `name` so it can be replaced, as tar does.
    func removeExisting(_ name: String, in parent: Int32, entry: String) throws {
        var info = stat()
        guard fstatat(parent, name, &info, AT_SYMLINK_NOFOLLOW) == 0 else { return }
        if (info.st_mode & S_IFMT) == S_IFDIR {
            throw IconError(.unsafeArchiveEntry, "archive entry \(entry) would replace a directory; refused")
        }
        guard unlinkat(parent, name, 0) == 0 else {
            throw IconError(.io, "cannot replace \(entry) in \(path): \(errnoText())")
        }
    }

    /// Creates a new regular file; the caller writes and closes the descriptor.
    func createFile(_ components: [String], mode: UInt32, entry: String) throws -> Int32 {
        let parent = try openParent(of: components, entry: entry)
        defer { close(parent) }
        let name = components.last!
        try removeExisting(name, in: parent, entry: entry)
        let fd = openat(parent, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode_t(mode & 0o777))
        guard fd >= 0 else { throw IconError(.io, "cannot create \(entry) in \(path): \(errnoText())") }
        // The umask may have cut bits; setuid/setgid/sticky are dropped on purpose.
        fchmod(fd, mode_t(mode & 0o777))
        return fd
    }

    func makeDirectory(_ components: [String], mode: UInt32, entry: String) throws {
        let parent = try openParent(of: components, entry: entry)
        defer { close(parent) }
        let name = components.last!
        if mkdirat(parent, name, 0o755) != 0 {
            guard errno == EEXIST else { throw IconError(.io, "cannot create directory \(entry) in \(path): \(errnoText())") }
            var info = stat()
            guard fstatat(parent, name, &info, AT_SYMLINK_NOFOLLOW) == 0, (info.st_mode & S_IFMT) == S_IFDIR else {
                throw IconError(.unsafeArchiveEntry, "archive entry \(entry) is a directory where a file or symlink already is; refused")
            }
        }
        // Keep directories writable by us so later entries can go in them.
        fchmodat(parent, name, mode_t((mode & 0o777) | 0o700), 0)
    }

    func makeSymlink(_ components: [String], target: String, entry: String) throws {
        let parent = try openParent(of: components, entry: entry)
        defer { close(parent) }
        let name = components.last!
        try removeExisting(name, in: parent, entry: entry)
        guard symlinkat(target, parent, name) == 0 else {
            throw IconError(.io, "cannot create symlink \(entry) in \(path): \(errnoText())")
        }
    }

    func makeHardlink(_ components: [String], to target: [String], entry: String) throws {
        let targetParent = try openParent(of: target, entry: entry)
        defer { close(targetParent) }
        var info = stat()
        guard fstatat(targetParent, target.last!, &info, AT_SYMLINK_NOFOLLOW) == 0 else {
            throw IconError(.unsafeArchiveEntry, "hard link \(entry) points to \(target.joined(separator: "/")), which the archive did not create; refused")
        }
        guard (info.st_mode & S_IFMT) != S_IFDIR else {
            throw IconError(.unsafeArchiveEntry, "hard link \(entry) points to a directory; refused")
        }
        let parent = try openParent(of: components, entry: entry)
        defer { close(parent) }
        let name = components.last!
        try removeExisting(name, in: parent, entry: entry)
        // Flags 0: never follow a symlink at the target.
        guard linkat(targetParent, target.last!, parent, name, 0) == 0 else {
            throw IconError(.io, "cannot create hard link \(entry) in \(path): \(errnoText())")
        }
    }
}
