import Foundation
public import IconCore
public import Logging

/// A stock live ISO whose kernel and initrd a build reuses (`--source-iso`, the original's
/// mode), read with `xorriso -osirrox` and never loop-mounted.
///
/// Casper ISOs (Ubuntu) keep them in `/casper`, live-boot ISOs (Debian) in `/live`; the
/// initrd decides how the image boots, so the ISO's layout must match the image's flavor.
public struct SourceIso: Hashable, Sendable {
    /// The kernel and initrd found in the ISO, as paths inside it.
    public struct Boot: Hashable, Sendable {
        public var flavor: Flavor
        public var kernel: String
        public var initrd: String
    }

    public var path: String
    public var boot: Boot

    /// Reads the file list of the ISO at `path` and finds its kernel and initrd.
    ///
    /// - Throws: `IconError.Code.notFound` when the file is missing or holds no live kernel
    ///   and initrd, `.malformed` when it is not an ISO 9660 image, `.toolFailed` naming the
    ///   xorriso command. Every message names the ISO.
    public static func open(path: String, runner: any ToolRunner, logger: Logger) async throws -> SourceIso {
        guard FileManager.default.fileExists(atPath: path) else {
            throw IconError(.notFound, "--source-iso \(path) does not exist")
        }
        do {
            _ = try ISO9660.volumeID(atPath: path)
        } catch {
            throw IconError(.malformed, "--source-iso \(path) is not an ISO 9660 image")
        }
        let output = try await runner.checked(Xorriso.listFiles(iso: path), logger: logger)
        guard let boot = find(in: parseFileList(output.standardOutput)) else {
            throw IconError(
                .notFound,
                "--source-iso \(path) has no live kernel and initrd (looked for /casper/vmlinuz and /casper/initrd*, /live/vmlinuz* and /live/initrd*)")
        }
        return SourceIso(path: path, boot: boot)
    }

    /// The paths in xorriso's `-find` output: one per line, in single quotes, with each
    /// `'` inside written as `'\''`.
    public static func parseFileList(_ text: String) -> [String] {
        text.split(separator: "\n").compactMap { line in
            guard line.count >= 2, line.hasPrefix("'"), line.hasSuffix("'") else { return nil }
            return String(line.dropFirst().dropLast()).replacingOccurrences(of: "'\\''", with: "'")
        }
    }

    /// The kernel and initrd among `files` (paths inside an ISO): casper's first, then
    /// live-boot's; `nil` when neither layout is complete.
    public static func find(in files: [String]) -> Boot? {
        for flavor in [Flavor.ubuntu, .debian] {
            let directory = "/\(flavor.liveDirectory)/"
            let names = files.filter { $0.hasPrefix(directory) }.map { String($0.dropFirst(directory.count)) }
                .filter { !$0.contains("/") }
            // casper ships exactly `vmlinuz`; live-boot `vmlinuz` or `vmlinuz-<version>`
            // (several on multi-kernel ISOs: the highest version wins).
            let kernels = names.filter { flavor == .ubuntu ? $0 == "vmlinuz" : $0.hasPrefix("vmlinuz") }
            guard let kernel = highest(kernels) else { continue }
            let initrds = names.filter { $0.hasPrefix("initrd") }
            let version = kernel.hasPrefix("vmlinuz-") ? String(kernel.dropFirst("vmlinuz-".count)) : nil
            let matching = version.map { v in initrds.filter { $0.hasSuffix("-\(v)") } } ?? []
            guard let initrd = highest(matching.isEmpty ? initrds : matching) else { continue }
            return Boot(flavor: flavor, kernel: directory + kernel, initrd: directory + initrd)
        }
        return nil
    }

    private static func highest(_ names: [String]) -> String? {
        names.max { $0.compare($1, options: .numeric) == .orderedAscending }
    }

    /// Checks that the ISO boots the way an image of `flavor` is laid out.
    ///
    /// - Throws: `IconError.Code.invalidArgument` naming the ISO and the flag to change.
    public func check(flavor: Flavor) throws {
        guard boot.flavor == flavor else {
            throw IconError(
                .invalidArgument,
                "--source-iso \(path) boots with \(boot.flavor == .ubuntu ? "casper" : "live-boot") but the image is \(flavor.rawValue); pass --flavor \(boot.flavor.rawValue)")
        }
    }

    /// Extracts the kernel and initrd to `kernel` and `initrd` on disk.
    public func extractions(kernel: String, initrd: String) -> [ToolInvocation] {
        [Xorriso.extract(iso: path, path: boot.kernel, to: kernel), Xorriso.extract(iso: path, path: boot.initrd, to: initrd)]
    }
}
