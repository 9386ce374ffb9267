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
        /// `.iso` entries that are not regular files (a FIFO, a directory, a symlink): never
        /// opened and not in the menu.
        public var notFiles: [GrubMenu.Skipped] = []
    }

    /// The name of the symlink in the image directory that names the image to boot.
    public static let currentLinkName = "current"

    /// The file `icon image` writes at the root of a BOOT partition it made: with it, the
    /// partition's `grub/grub.cfg` and `grub/grubenv` are Iconograph's to rewrite whatever they hold.
    public static let markerFileName = "iconograph-boot"

    /// The text of the marker file.
    public static let markerText = """
        This is an Iconograph BOOT partition, made by `icon image`. icon rewrites
        grub/grub.cfg and grub/grubenv here; GRUB boots the ISOs in iconograph/.

        """

    public init() {}

    /// Refuses a boot directory whose boot menu Iconograph did not write: its `grub/grub.cfg`
    /// exists, is not a menu Iconograph wrote (``GrubMenu/isIconographMenu(_:)``) and there is
    /// no ``markerFileName`` beside it. Callers check this before writing anything there:
    /// the menu, grubenv, or an ISO downloaded for the menu.
    ///
    /// - Throws: `.invalidArgument` naming the grub.cfg and `--boot-dir`; `.io` when the
    ///   grub.cfg cannot be read.
    public static func checkOwnership(bootDir: String) throws {
        let boot = resolve(bootDir)
        let configPath = "\(boot == "/" ? "" : boot)/grub/grub.cfg"
        // lstat: a symlink is a file someone put there, too.
        guard (try? FileManager.default.attributesOfItem(atPath: configPath)) != nil else { return }
        if FileManager.default.fileExists(atPath: "\(boot == "/" ? "" : boot)/\(markerFileName)") { return }
        let fd: Int32
        do {
            fd = try RegularFile.openForReading(configPath)
        } catch let error as IconError {
            throw IconError(.io, "cannot read \(configPath) to check who wrote it: \(error.message)")
        }
        let handle = FileHandle(fileDescriptor: fd, closeOnDealloc: true)
        defer { try? handle.close() }
        let head = (try? handle.read(upToCount: 4096)) ?? Data()
        if GrubMenu.isIconographMenu(String(decoding: head, as: UTF8.self)) { return }
        throw IconError(
            .invalidArgument,
            "\(configPath) was not written by Iconograph: it looks like the host's own boot menu (e.g. Debian's grub-mkconfig output), which icon never replaces; --boot-dir must be an Iconograph BOOT partition (made by icon image), not \(bootDir)")
    }

    /// Writes ``markerFileName`` at the root of a BOOT partition Iconograph made.
    ///
    /// - Throws: `.io` naming the file.
    public static func writeMarker(bootDir: String) throws {
        try AtomicFile.write(Data(markerText.utf8), to: "\(resolve(bootDir))/\(markerFileName)", mode: 0o644)
    }

    /// Writes `<bootDir>/grub/grub.cfg` atomically (creating `grub/` when needed) with one
    /// entry per `<digits>.iso` regular file in `imageDir`, the `current` link's target as
    /// default. Entries that are not regular files are skipped unopened (``Result/notFiles``).
    ///
    /// - Parameters:
    ///   - bootDir: the directory GRUB sees as the root of the boot partition.
    ///   - imageDir: a directory inside `bootDir` holding the ISOs.
    /// - Throws: `IconError.Code.invalidArgument` when `imageDir` is not inside `bootDir` or
    ///   `bootDir` holds a boot menu Iconograph did not write (see ``checkOwnership(bootDir:)``;
    ///   then nothing is written), `.notFound` / `.io` naming the directory or file.
    public func update(bootDir: String, imageDir: String) throws -> Result {
        try Self.checkOwnership(bootDir: bootDir)
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
        var notFiles: [GrubMenu.Skipped] = []
        for name in names.sorted() where name.hasSuffix(".iso") && !name.hasPrefix(".") {
            // Checked before opening: a FIFO named <digits>.iso would block the volume id
            // read forever. A symlink to a regular file is listed, as before.
            if let kind = RegularFile.otherKind(followingLinksAt: "\(images)/\(name)") {
                notFiles.append(GrubMenu.Skipped(fileName: name, reason: "it is \(kind), not a regular file"))
                continue
            }
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
        AtomicFile.removeStaleTemporaries(in: grubDir)
        try AtomicFile.write(Data(menu.render().utf8), to: configPath, mode: 0o644)
        return Result(configPath: configPath, menu: menu, unreadable: unreadable, notFiles: notFiles)
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
