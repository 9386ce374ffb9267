import Foundation
public import IconCore
public import Logging

/// The programs replaced by harmless stubs while an image is built, as live-build does it:
/// each is moved aside with `dpkg-divert --local --rename` (so a package upgrade during the
/// build writes to the diverted name and cannot bring the real program back early), a stub
/// that exits 0 takes its place, and all of it is undone before the root is packed.
///
/// Together with policy-rc.d (which `invoke-rc.d` and `deb-systemd-invoke` obey) this keeps
/// maintainer scripts and modules from starting daemons in the chroot, where they would
/// hold files open, keep mounts busy or hang the build.
public enum BuildDiversions {
    /// Paths that are diverted when a package in the root ships them. Both spellings of each
    /// are listed because packages moved between /sbin and /usr/sbin; with merged /usr only
    /// the one the package's file list names is diverted, so the same file is never moved twice.
    public static let candidates = [
        "/sbin/start-stop-daemon", "/usr/sbin/start-stop-daemon",
        "/sbin/initctl", "/usr/sbin/initctl",
    ]

    /// The stub put in place of each diverted program.
    public static let stub = "#!/bin/sh\n# Written by icon build-image: no daemon starts while the image is built.\nexit 0\n"

    /// The candidates that a package installed in `root` ships, read from dpkg's file lists.
    public static func paths(inRoot root: String) -> [String] {
        let info = "\(root)/var/lib/dpkg/info"
        let lists = ((try? FileManager.default.contentsOfDirectory(atPath: info)) ?? []).filter { $0.hasSuffix(".list") }
        var shipped = Set<String>()
        for list in lists {
            guard let text = try? String(contentsOfFile: "\(info)/\(list)", encoding: .utf8) else { continue }
            for line in text.split(separator: "\n") where candidates.contains(String(line)) {
                shipped.insert(String(line))
            }
        }
        return candidates.filter(shipped.contains)
    }

    /// `dpkg-divert` inside `root` adding (or removing) the local, renaming diversion of `path`.
    public static func divert(root: String, path: String, remove: Bool = false) -> ToolInvocation {
        Chroot.invocation(root: root, "dpkg-divert", ["--quiet", "--local", "--rename", remove ? "--remove" : "--add", path])
    }

    /// Diverts every shipped candidate in `root` and writes the stubs.
    ///
    /// - Returns: the diverted paths, for `remove`.
    /// - Throws: `.toolFailed` naming the dpkg-divert command, `.io` naming the stub.
    public static func add(root: String, runner: any ToolRunner, logger: Logger) async throws -> [String] {
        let paths = paths(inRoot: root)
        for path in paths {
            try await runner.checked(divert(root: root, path: path), logger: logger)
            try AtomicFile.write(Array(stub.utf8), to: root + path, mode: 0o755)
        }
        return paths
    }

    /// Deletes the stubs and lets dpkg-divert move the real programs back, last first.
    ///
    /// - Throws: `.toolFailed` naming the dpkg-divert command, `.io` naming the stub.
    public static func remove(_ paths: [String], root: String, runner: any ToolRunner, logger: Logger) async throws {
        for path in paths.reversed() {
            do {
                if FileManager.default.fileExists(atPath: root + path) {
                    try FileManager.default.removeItem(atPath: root + path)
                }
            } catch {
                throw IconError(.io, "cannot remove the build stub \(root + path)", cause: error)
            }
            try await runner.checked(divert(root: root, path: path, remove: true), logger: logger)
        }
    }
}
