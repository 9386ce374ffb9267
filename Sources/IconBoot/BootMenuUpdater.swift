import Foundation
import IconCore

/// Rewrites the outer `grub.cfg` of a boot directory from the ISOs in its image directory.
///
/// I/O only: what the menu says is `GrubMenu`'s business.
public struct BootMenuUpdater: Sendable {
    /// What an update wrote.
    public struct Result: Sendable {
        /// The path of the written grub.cfg.
        public var configPath: String
        /// The menu that was written.
        public var menu: GrubMenu
        /// ISOs whose volume id could not be read; they are listed without one.
        public var unreadable: [String]
    }

    /// The name of the symlink in the image directory that names the image to boot.
    public static let currentLinkName = "current"

    public init() {}

    /// Writes `<bootDir>/grub/grub.cfg` atomically (creating `grub/` when needed) with one
    /// entry per `<digits>.iso` in `imageDir`, the `current` link's target as default.
    ///
    /// - Parameters:
    ///   - bootDir: the directory GRUB sees as the root of the boot partition.
    ///   - imageDir: a directory inside `bootDir` holding the ISOs.
    /// - Throws: `IconError.Code.invalidArgument` when `imageDir` is not inside `bootDir`,
    ///   `.notFound` / `.io` naming the directory or file.
    public func update(bootDir: String, imageDir: String) throws -> Result {
        let boot = Self.resolve(bootDir)
        let images = Self.resolve(imageDir)
        guard images.hasPrefix(boot + "/") || (boot == "/" && images != "/") else {
            throw IconError(.invalidArgument, "image directory \(imageDir) is not inside boot directory \(bootDir)")
        }
        let prefix = boot == "/" ? images : String(images.dropFirst(boot.count))
        let names: [String]
        do {
            names = try FileManager.default.contentsOfDirectory(atPath: images)
        } catch {
            throw IconError(.notFound, "cannot list image directory \(imageDir)", cause: error)
        }
        var entries: [GrubMenu.Entry] = []
        var unreadable: [String] = []
        for name in names where name.hasSuffix(".iso") && !name.hasPrefix(".") {
            let volumeID: String
            do {
                volumeID = try ISO9660.volumeID(atPath: "\(images)/\(name)")
            } catch {
                // A damaged ISO still gets an entry: a menu without it is worse than a label missing.
                unreadable.append(name)
                volumeID = ""
            }
            let timestamp = Int(name.dropLast(4)) ?? -1
            entries.append(GrubMenu.Entry(timestamp: timestamp, fileName: name, volumeID: volumeID))
        }
        let menu = try GrubMenu(entries: entries, current: Self.currentTarget(imageDir: images), pathPrefix: prefix)
        let grubDir = "\(boot)/grub"
        do {
            try FileManager.default.createDirectory(atPath: grubDir, withIntermediateDirectories: true)
        } catch {
            throw IconError(.io, "cannot create \(grubDir)", cause: error)
        }
        let configPath = "\(grubDir)/grub.cfg"
        try AtomicFile.write(Data(menu.render().utf8), to: configPath, mode: 0o644)
        return Result(configPath: configPath, menu: menu, unreadable: unreadable)
    }

    /// The file name the `current` link points to, nil when there is no link.
    static func currentTarget(imageDir: String) -> String? {
        guard let target = try? FileManager.default.destinationOfSymbolicLink(atPath: "\(imageDir)/\(currentLinkName)") else {
            return nil
        }
        return (target as NSString).lastPathComponent
    }

    /// An absolute, symlink-free path without a trailing slash, so containment is a prefix test.
    static func resolve(_ path: String) -> String {
        let absolute = path.hasPrefix("/") ? path : FileManager.default.currentDirectoryPath + "/" + path
        var resolved = URL(fileURLWithPath: absolute).standardizedFileURL.resolvingSymlinksInPath().path
        while resolved.count > 1, resolved.hasSuffix("/") { resolved.removeLast() }
        return resolved
    }
}
