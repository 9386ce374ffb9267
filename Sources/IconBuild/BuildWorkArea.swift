import Foundation
public import IconCore
public import Logging

/// The build's temporary area: a directory holding a tmpfs with `chroot/` and `iso/`, and
/// the mounts made below it. `tearDown` undoes everything in reverse order, whatever failed.
public actor BuildWorkArea {
    public nonisolated let path: String
    public nonisolated var chroot: String { "\(path)/chroot" }
    public nonisolated var iso: String { "\(path)/iso" }

    private let runner: any ToolRunner
    private let logger: Logger
    private var mounts: [String] = []

    /// Creates a fresh directory below `parent` (not mounted yet).
    ///
    /// - Throws: `IconError.Code.io` naming `parent`.
    public init(parent: String, runner: any ToolRunner, logger: Logger) throws {
        var template = Array("\(parent)/icon-build-XXXXXX".utf8CString)
        guard template.withUnsafeMutableBufferPointer({ mkdtemp($0.baseAddress!) }) != nil else {
            throw IconError(.io, "cannot create a work directory in \(parent) (--work-dir): \(errnoText())")
        }
        self.path = String(decoding: template.dropLast().map { UInt8(bitPattern: $0) }, as: UTF8.self)
        self.runner = runner
        self.logger = logger
    }

    /// Mounts a tmpfs of `size` on the work directory and makes `chroot/` and `iso/` in it.
    public func mountTmpfs(size: String) async throws {
        try await mount(Mount.tmpfs(at: path, size: size), at: path)
        for directory in [chroot, iso] {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        }
    }

    /// Mounts /proc, /sys, /dev and /dev/pts into the chroot.
    public func mountKernelFilesystems() async throws {
        for (invocation, target) in [
            (Mount.proc(at: "\(chroot)/proc"), "\(chroot)/proc"),
            (Mount.sysfs(at: "\(chroot)/sys"), "\(chroot)/sys"),
            (Mount.bind("/dev", at: "\(chroot)/dev"), "\(chroot)/dev"),
            (Mount.bind("/dev/pts", at: "\(chroot)/dev/pts"), "\(chroot)/dev/pts"),
        ] {
            try FileManager.default.createDirectory(atPath: target, withIntermediateDirectories: true)
            try await mount(invocation, at: target)
        }
    }

    /// Unmounts the chroot's kernel filesystems (before packing), keeping the tmpfs.
    public func unmountKernelFilesystems() async throws {
        while let last = mounts.last, last.hasPrefix(chroot + "/") {
            try await runner.checked(Mount.unmount(last), logger: logger)
            mounts.removeLast()
        }
    }

    /// The mount points currently held, innermost last.
    public var activeMounts: [String] { mounts }

    private func mount(_ invocation: ToolInvocation, at target: String) async throws {
        try await runner.checked(invocation, logger: logger)
        mounts.append(target)
    }

    /// Unmounts everything (lazily when busy) and removes the work directory. Never throws:
    /// it runs after failures and logs what it could not undo.
    public func tearDown() async {
        while let target = mounts.popLast() {
            let plain = try? await runner.run(Mount.unmount(target), logger: logger)
            if plain?.succeeded != true {
                let lazy = try? await runner.run(Mount.unmount(target, lazy: true), logger: logger)
                if lazy?.succeeded != true {
                    logger.error("could not unmount \(target); unmount it by hand")
                }
            }
        }
        // Only remove the directory when nothing is mounted below it any more, so a failed
        // unmount can never make us delete the host's /dev through a bind mount.
        if !Self.hasMounts(below: path) {
            try? FileManager.default.removeItem(atPath: path)
        } else {
            logger.error("mounts remain below \(path); not removing it")
        }
    }

    /// Whether /proc/self/mounts lists a mount point at or below `path`.
    public static func hasMounts(below path: String) -> Bool {
        guard let text = try? String(contentsOfFile: "/proc/self/mounts", encoding: .utf8) else { return false }
        return text.split(separator: "\n").contains { line in
            let fields = line.split(separator: " ")
            guard fields.count > 1 else { return false }
            let point = fields[1].replacingOccurrences(of: "\\040", with: " ")
            return point == path || point.hasPrefix(path + "/")
        }
    }
}
