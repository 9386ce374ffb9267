public import Foundation
public import IconCore
public import Logging

/// The helper API for image modules: every write goes under one chroot, never outside it.
///
/// A module is a program run by `icon build-image --module "<command>"` as
/// `<command> --chroot-path=<chroot>`. Swift modules (the stock ones and users' own) build a
/// `ModuleContext` for that path and use it to write files, copy overlays, install packages,
/// add users and enable systemd units. Paths given to it are absolute paths *inside* the image
/// (`/etc/hostname`); a path with `..`, or whose existing parent resolves outside the chroot
/// through a symlink, is refused. Every operation can be repeated: running a module twice
/// leaves the same result as running it once.
public struct ModuleContext: Sendable {
    /// The chroot's absolute path on the build host, without a trailing slash.
    public let chrootPath: String
    /// Runs `chroot`, `apt-get`, `useradd`; tests pass a `RecordingToolRunner`.
    public var runner: any ToolRunner
    public var logger: Logger

    /// - Throws: `IconError.Code.invalidArgument` when `chrootPath` is not an existing
    ///   absolute directory (other than `/`).
    public init(chrootPath: String, runner: any ToolRunner = SubprocessToolRunner(), logger: Logger = Logger(label: "icon.module")) throws {
        guard chrootPath.hasPrefix("/") else {
            throw IconError(.invalidArgument, "--chroot-path \(chrootPath) must be an absolute path")
        }
        let standard = (chrootPath as NSString).standardizingPath
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: standard, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw IconError(.invalidArgument, "--chroot-path \(chrootPath) is not a directory")
        }
        // A module run against the host's own root would rewrite the build machine.
        guard Self.realPath(standard) != "/" else {
            throw IconError(.invalidArgument, "--chroot-path \(chrootPath) is the host's root directory")
        }
        self.chrootPath = standard
        self.runner = runner
        self.logger = logger
    }

    /// The host path of `path`, an absolute path inside the image.
    ///
    /// - Throws: `IconError.Code.invalidArgument` for relative paths, `..` components, or an
    ///   existing ancestor that resolves outside the chroot (a symlink pointing out).
    public func hostPath(_ path: String) throws -> String {
        guard path.hasPrefix("/") else {
            throw IconError(.invalidArgument, "image path \(path) must be absolute")
        }
        let parts = path.split(separator: "/", omittingEmptySubsequences: true)
        guard !parts.contains(where: { $0 == ".." || $0 == "." }) else {
            throw IconError(.invalidArgument, "image path \(path) must not contain . or .. (it could escape \(chrootPath))")
        }
        let host = chrootPath + "/" + parts.joined(separator: "/")
        // The deepest existing ancestor must stay inside the chroot once symlinks resolve.
        let root = Self.realPath(chrootPath)
        var probe = (host as NSString).deletingLastPathComponent
        while !FileManager.default.fileExists(atPath: probe) { probe = (probe as NSString).deletingLastPathComponent }
        let resolved = Self.realPath(probe)
        guard resolved == root || resolved.hasPrefix(root + "/") else {
            throw IconError(.invalidArgument, "image path \(path) resolves to \(resolved), outside the chroot \(chrootPath)")
        }
        return host
    }

    /// Writes `contents` to `path` in the image atomically with `mode`, creating parents (0755).
    public func writeFile(_ path: String, contents: some DataProtocol, mode: mode_t = 0o644) throws {
        let host = try hostPath(path)
        try makeDirectory((path as NSString).deletingLastPathComponent)
        try AtomicFile.write(contents, to: host, mode: mode)
        // AtomicFile's mode is filtered by the umask; keys and executables need exact bits.
        guard chmod(host, mode) == 0 else { throw IconError(.io, "cannot chmod \(host): \(errnoText())") }
    }

    /// Writes text (UTF-8) to `path` in the image.
    public func writeFile(_ path: String, text: String, mode: mode_t = 0o644) throws {
        try writeFile(path, contents: Array(text.utf8), mode: mode)
    }

    /// Copies the host file `source` to `path` in the image with `mode`.
    public func copyFile(from source: String, to path: String, mode: mode_t = 0o644) throws {
        guard let data = FileManager.default.contents(atPath: source) else {
            throw IconError(.notFound, "cannot read \(source)")
        }
        try writeFile(path, contents: data, mode: mode)
    }

    /// Creates the directory `path` in the image (and its parents) with mode 0755.
    public func makeDirectory(_ path: String) throws {
        let host = try hostPath(path)
        do {
            try FileManager.default.createDirectory(atPath: host, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o755])
        } catch {
            throw IconError(.io, "cannot create directory \(host)", cause: error)
        }
    }

    /// Makes `path` in the image a symlink to `target` (replacing what was there).
    public func symlink(_ path: String, to target: String) throws {
        let host = try hostPath(path)
        try makeDirectory((path as NSString).deletingLastPathComponent)
        try AtomicFile.symlink(target, at: host)
    }

    /// Copies the tree under the host directory `source` into the image root, keeping modes;
    /// `source/etc/motd` becomes `/etc/motd`. Symlinks are copied as symlinks.
    public func copyOverlay(from source: String) throws {
        guard let walker = FileManager.default.enumerator(atPath: source) else {
            throw IconError(.notFound, "cannot read the overlay directory \(source)")
        }
        while let relative = walker.nextObject() as? String {
            let from = "\(source)/\(relative)"
            let to = "/" + relative
            let attributes = try FileManager.default.attributesOfItem(atPath: from)
            let mode = mode_t((attributes[.posixPermissions] as? Int) ?? 0o644)
            switch attributes[.type] as? FileAttributeType {
            case .typeDirectory?: try makeDirectory(to)
            case .typeSymbolicLink?:
                try symlink(to, to: try FileManager.default.destinationOfSymbolicLink(atPath: from))
            case .typeRegular?: try copyFile(from: from, to: to, mode: mode)
            default: throw IconError(.invalidArgument, "overlay entry \(from) is not a file, directory or symlink")
            }
        }
    }

    /// Enables the unit `name` (already written under /etc/systemd/system or /lib/systemd/system)
    /// the way `systemctl enable` would: a symlink in `<wantedBy>.wants`, so no systemd is needed.
    public func enableUnit(_ name: String, wantedBy: String = "multi-user.target") throws {
        try SystemdUnit.checkName(name)
        try SystemdUnit.checkName(wantedBy)
        try symlink("/etc/systemd/system/\(wantedBy).wants/\(name)", to: "/etc/systemd/system/\(name)")
    }

    /// Installs Debian packages in the chroot with apt-get (no recommends, non-interactive).
    ///
    /// During `icon build-image` a policy-rc.d that forbids starting services is in place.
    public func installPackages(_ names: [String]) async throws {
        for name in names where name.isEmpty || name.hasPrefix("-") || !name.allSatisfy({ $0.isLetter || $0.isNumber || "+-.:_".contains($0) }) {
            throw IconError(.invalidArgument, "'\(name)' is not a package name")
        }
        guard !names.isEmpty else { return }
        try await runInChroot(["apt-get", "install", "-y", "--no-install-recommends"] + names, environment: ["DEBIAN_FRONTEND": "noninteractive"])
    }

    /// Runs a command inside the chroot (`chroot <chroot> <arguments...>`) and checks its exit.
    @discardableResult
    public func runInChroot(_ arguments: [String], environment: [String: String] = [:]) async throws -> ToolOutput {
        try await runner.checked(ToolInvocation("chroot", [chrootPath] + arguments, environment: environment), logger: logger)
    }

    static func realPath(_ path: String) -> String {
        guard let resolved = Glibc.realpath(path, nil) else { return path }
        defer { free(resolved) }
        return String(cString: resolved)
    }
}
