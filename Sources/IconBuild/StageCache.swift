import Foundation
public import IconCore

/// The cache of bootstrapped roots: a tarball per key under `<directory>/roots/`.
///
/// The key hashes everything that determines the root's contents: release, arch, apt source
/// lines (so the archive and flavor), the sorted package set, the bootstrapper and the
/// builder's version. A rebuild with the same inputs and other modules restores the tarball
/// instead of bootstrapping again.
public struct StageCache: Hashable, Sendable {
    /// The version of the bootstrap recipe; bump it when the way roots are made changes.
    public static let recipeVersion = "mmdebstrap-1"

    public var directory: String

    public init(directory: String) {
        self.directory = directory
    }

    /// The cache key for a root made from these inputs.
    public static func key(release: String, arch: String, flavor: Flavor, sources: [String], packages: [String]) -> String {
        let text = [
            "builder=\(IconVersion.release)/\(recipeVersion)",
            "release=\(release)",
            "arch=\(arch)",
            "flavor=\(flavor.rawValue)",
        ] + sources.map { "source=\($0)" } + packages.sorted().map { "package=\($0)" }
        return FileHasher.sha256Hex(of: Array((text.joined(separator: "\n") + "\n").utf8))
    }

    /// The tarball path for `key` (which may not exist yet).
    public func tarball(forKey key: String) -> String {
        "\(directory)/roots/\(key).tar"
    }

    /// Where a tarball for `key` is written before it is complete; the rename to `tarball`
    /// makes it visible, so an interrupted build never leaves a half root in the cache.
    public func partialTarball(forKey key: String) -> String {
        "\(directory)/roots/\(key).partial.tar"
    }

    /// Whether a complete root for `key` is cached.
    public func contains(key: String) -> Bool {
        FileManager.default.fileExists(atPath: tarball(forKey: key))
    }

    /// Creates `<directory>/roots`.
    ///
    /// - Throws: `IconError.Code.io` naming the directory.
    public func prepare() throws {
        do {
            try FileManager.default.createDirectory(atPath: "\(directory)/roots", withIntermediateDirectories: true)
        } catch {
            throw IconError(.io, "cannot create the cache directory \(directory)/roots", cause: error)
        }
    }

    /// Extracts a cached root into `root`, keeping owners, modes and extended attributes.
    public func extract(key: String, into root: String) -> ToolInvocation {
        ToolInvocation(
            "tar", ["--extract", "--file", tarball(forKey: key), "--directory", root, "--numeric-owner",
                    "--preserve-permissions", "--xattrs", "--xattrs-include=*"])
    }
}
