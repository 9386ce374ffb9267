import Foundation
import IconCore

/// Finds the newest kernel and its initrd in an image root's `/boot`.
public enum KernelFinder {
    /// Paths (on the host) of the kernel and the initrd to put on the ISO.
    public struct Boot: Hashable, Sendable {
        public var version: String
        public var kernel: String
        public var initrd: String
    }

    /// The highest-versioned `vmlinuz-<version>` in `<root>/boot` that has an initrd.
    ///
    /// - Throws: `IconError.Code.notFound` naming the directory when none is there.
    public static func find(in root: String) throws -> Boot {
        let boot = "\(root)/boot"
        let names = (try? FileManager.default.contentsOfDirectory(atPath: boot)) ?? []
        let versions = names.filter { $0.hasPrefix("vmlinuz-") }.map { String($0.dropFirst("vmlinuz-".count)) }
            .filter { names.contains("initrd.img-\($0)") }
            .sorted { $0.compare($1, options: .numeric) == .orderedAscending }
        guard let version = versions.last else {
            throw IconError(.notFound, "no kernel with an initrd in \(boot): is a linux-image package in the package set?")
        }
        return Boot(version: version, kernel: "\(boot)/vmlinuz-\(version)", initrd: "\(boot)/initrd.img-\(version)")
    }
}
