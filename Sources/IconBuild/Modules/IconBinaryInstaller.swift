import Foundation
import IconCore
import Logging

/// Installs a copy of the `icon` binary that runs inside the image, without a Swift toolchain
/// there and without any network at boot.
///
/// A binary linked against the Swift runtime as shared libraries (the default `swift build`)
/// finds them through its RUNPATH, which holds the toolchain's directory and `$ORIGIN`. So the
/// binary goes to /usr/local/lib/icon/icon with every library `ldd` resolves that the image
/// does not already provide next to it (`$ORIGIN` finds them), and /usr/local/bin/icon is a
/// symlink to it. The loader resolves `$ORIGIN` from /proc/self/exe, which is the real file
/// behind the symlink; Swift itself needs /proc too (it reads its arguments from there), so
/// in a chroot mount /proc first. A binary built with `--static-swift-stdlib` needs no
/// libraries and is copied alone. The copy is stripped of symbols when `strip` is on the host,
/// which halves a debug
/// build. The image and the build host must be the same Debian release (glibc), as the libraries
/// the image provides itself are not copied.
public struct IconBinaryInstaller: Sendable {
    /// Where the binary and its libraries go in the image.
    public static let directory = "/usr/local/lib/icon"
    /// The command users and the agent's unit run.
    public static let commandPath = "/usr/local/bin/icon"
    /// Library directories of a Debian or Ubuntu root that the dynamic loader searches.
    static let systemLibraryDirectories = [
        "/lib/x86_64-linux-gnu", "/usr/lib/x86_64-linux-gnu", "/lib/aarch64-linux-gnu", "/usr/lib/aarch64-linux-gnu",
        "/lib64", "/lib", "/usr/lib",
    ]

    /// One line of `ldd` output that names a library file.
    struct Library: Equatable {
        var name: String
        var path: String
    }

    public init() {}

    /// Copies `binary` (and the libraries it needs that the image lacks) into the image.
    ///
    /// - Returns: the image paths of the copied libraries.
    /// - Throws: `.notFound` naming `binary` when it cannot be read; `.toolFailed` when `ldd`
    ///   cannot list a dynamic binary's libraries or a library is not found on the host.
    @discardableResult
    public func install(binary: String, into context: ModuleContext) async throws -> [String] {
        let source = URL(fileURLWithPath: binary).resolvingSymlinksInPath().path
        guard FileManager.default.isReadableFile(atPath: source) else {
            throw IconError(.notFound, "cannot read the icon binary \(binary) to install it")
        }
        let target = "\(Self.directory)/icon"
        try context.copyFile(from: source, to: target, mode: 0o755)
        let output = try await context.runner.run(ToolInvocation("ldd", [source]), logger: context.logger)
        var copied: [String] = []
        if output.exitCode == 0 {
            let text = output.standardOutput
            if let missing = Self.unresolved(text).first {
                throw IconError(.toolFailed, "\(binary) needs \(missing), which ldd cannot find on this host")
            }
            for library in Self.parse(text) where !(try providedByImage(library.name, context: context)) {
                let destination = "\(Self.directory)/\(library.name)"
                try context.copyFile(from: library.path, to: destination, mode: 0o644)
                copied.append(destination)
            }
        } else {
            // ldd says "not a dynamic executable" for a static binary: nothing else to copy.
            context.logger.info("\(binary) is not dynamically linked; installing it alone")
        }
        let stripped = try await context.runner.run(ToolInvocation("strip", ["--strip-all", try context.hostPath(target)]), logger: context.logger)
        if stripped.exitCode != 0 { context.logger.notice("strip failed on \(target); installing it unstripped") }
        try context.symlink(Self.commandPath, to: "../lib/icon/icon")
        return copied
    }

    /// Whether the image already has a library named `name` where the loader looks.
    func providedByImage(_ name: String, context: ModuleContext) throws -> Bool {
        try Self.systemLibraryDirectories.contains { FileManager.default.fileExists(atPath: try context.hostPath("\($0)/\(name)")) }
    }

    /// The `name => /path (address)` lines of `ldd` output; the vDSO and the loader itself
    /// (which the image has) are left out.
    static func parse(_ lddOutput: String) -> [Library] {
        lddOutput.split(separator: "\n").compactMap { line in
            let parts = line.split(separator: " ", omittingEmptySubsequences: true)
            guard parts.count >= 3, parts[1] == "=>", parts[2].hasPrefix("/") else { return nil }
            let name = String(parts[0].trimmingCharacters(in: .whitespaces))
            guard !name.hasPrefix("ld-linux"), !name.hasPrefix("linux-vdso") else { return nil }
            return Library(name: name, path: String(parts[2]))
        }
    }

    /// Names `ldd` reports as `not found`.
    static func unresolved(_ lddOutput: String) -> [String] {
        lddOutput.split(separator: "\n").compactMap { line in
            guard line.contains("=> not found") else { return nil }
            return line.split(separator: " ", omittingEmptySubsequences: true).first.map { String($0.trimmingCharacters(in: .whitespaces)) }
        }
    }
}
