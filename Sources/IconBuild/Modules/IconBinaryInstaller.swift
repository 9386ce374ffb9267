import Foundation
import IconCore
import Logging

/// Installs the `icon` binary that runs inside the image, without a Swift toolchain there and
/// without any network at boot.
///
/// Only a release build linked with `--static-swift-stdlib` goes in (`scripts/build-release.sh`
/// makes it, at dist/icon): it needs nothing beyond glibc and the C++ runtime, which every
/// Debian and Ubuntu root has, so it runs in an image of another release than the build host's,
/// and it is a fraction of a debug build's size, which every machine downloads with every image.
/// The binary is checked before anything is written: a debug build (its `--version` says so) or
/// one linked against the Swift runtime as shared libraries is refused, naming the flag and how
/// to make the right one, and so is a binary that needs a library the image lacks. The copy at
/// /usr/local/bin/icon is stripped of symbols when `strip` is on the host.
public struct IconBinaryInstaller: Sendable {
    /// The command users and the agent's unit run.
    public static let commandPath = "/usr/local/bin/icon"
    /// Library directories of a Debian or Ubuntu root that the dynamic loader searches.
    static let systemLibraryDirectories = [
        "/lib/x86_64-linux-gnu", "/usr/lib/x86_64-linux-gnu", "/lib/aarch64-linux-gnu", "/usr/lib/aarch64-linux-gnu",
        "/lib64", "/lib", "/usr/lib",
    ]
    /// Name prefixes of the Swift runtime's shared libraries (a build without `--static-swift-stdlib`).
    static let swiftRuntimePrefixes = ["libswift", "libFoundation", "lib_Foundation", "libdispatch", "libBlocksRuntime"]
    /// How to make the binary an image needs, for the errors.
    static let remedy = "build it with scripts/build-release.sh and pass --icon-binary dist/icon"

    /// One line of `ldd` output that names a library file.
    struct Library: Equatable {
        var name: String
        var path: String
    }

    /// The binary to install.
    public var binary: String
    /// The flag that named it (`--icon-binary`), or nil for the running binary.
    public var flag: String?

    public init(binary: String = "/proc/self/exe", flag: String? = nil) {
        self.binary = binary
        self.flag = flag
    }

    /// The binary as errors name it: `--icon-binary PATH`, or `this icon (PATH)`.
    var named: String {
        flag.map { "\($0) \(binary)" } ?? "this icon (\(resolvedPath))"
    }

    var resolvedPath: String { URL(fileURLWithPath: binary).resolvingSymlinksInPath().path }

    /// Checks the binary, then copies it to ``commandPath`` in the image.
    ///
    /// - Throws: `.notFound` naming the binary when it cannot be read; `.invalidArgument` when
    ///   it is a debug build, links the Swift runtime dynamically, is not an `icon` that runs
    ///   here, or needs a library the image lacks; `.toolFailed` when `ldd` cannot list its
    ///   libraries.
    public func install(into context: ModuleContext) async throws {
        let source = resolvedPath
        guard FileManager.default.isReadableFile(atPath: source) else {
            throw IconError(.notFound, "cannot read the icon binary \(binary) to install it; \(Self.remedy)")
        }
        for library in try await check(context: context) where !(try providedByImage(library.name, context: context)) {
            throw IconError(
                .invalidArgument,
                "\(named) needs \(library.name), which the image lacks; add the package that has it (--package) or \(Self.remedy)")
        }
        try context.copyFile(from: source, to: Self.commandPath, mode: 0o755)
        let stripped = try await context.runner.run(
            ToolInvocation("strip", ["--strip-all", try context.hostPath(Self.commandPath)]), logger: context.logger)
        if stripped.exitCode != 0 { context.logger.notice("strip failed on \(Self.commandPath); installing it unstripped") }
    }

    /// Whether the binary is one an image can run: a release build of icon whose libraries are
    /// all outside the Swift runtime.
    ///
    /// - Returns: the libraries it needs (none for a fully static binary).
    func check(context: ModuleContext) async throws -> [Library] {
        let version = try await context.runner.run(ToolInvocation(resolvedPath, ["--version"]), logger: context.logger)
        let printed = version.standardOutput.trimmingCharacters(in: .whitespacesAndNewlines)
        guard version.exitCode == 0, printed.first?.isNumber == true, printed.contains(" (commit ") else {
            throw IconError(.invalidArgument, "\(named) is not an icon binary that runs on this host (its --version failed); \(Self.remedy)")
        }
        if printed.contains("debug build") {
            throw IconError(.invalidArgument, "\(named) is a debug build, too large and slow for an image; \(Self.remedy)")
        }
        let output = try await context.runner.run(ToolInvocation("ldd", [resolvedPath]), logger: context.logger)
        // ldd says "not a dynamic executable" (status 1) for a static binary: nothing to look for.
        guard output.exitCode == 0 else { return [] }
        let text = output.standardOutput
        if let missing = Self.unresolved(text).first {
            throw IconError(.invalidArgument, "\(named) needs \(missing), which ldd cannot find on this host; \(Self.remedy)")
        }
        let libraries = Self.parse(text)
        if let runtime = libraries.first(where: { library in Self.swiftRuntimePrefixes.contains { library.name.hasPrefix($0) } }) {
            throw IconError(
                .invalidArgument,
                "\(named) links the Swift runtime as shared libraries (\(runtime.name)), which an image lacks; \(Self.remedy)")
        }
        return libraries
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
