public import ArgumentParser
import Foundation
import IconBoot
import IconCore

/// `icon update-grub`: rewrite the outer boot menu from the ISOs on the boot partition.
public struct BootUpdateGrub: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "update-grub",
        abstract: "Write the boot menu (grub.cfg) listing every image on the boot partition.",
        discussion: """
            Writes <boot-dir>/grub/grub.cfg atomically with one entry per <timestamp>.iso in \
            --image-dir, newest first, hotkeys 0-9a-zA-Z, the image the 'current' link names \
            as default (the newest when there is no link) and the newest other image as \
            fallback. --image-dir must be inside --boot-dir: its path relative to --boot-dir \
            is where GRUB finds the ISOs. Files not named <digits>.iso are skipped; volume ids \
            are escaped so they cannot inject GRUB commands.

            Example:
              icon update-grub --boot-dir /boot --image-dir /boot/iconograph
            """
    )

    @Option(help: ArgumentHelp("Directory GRUB sees as the root of the boot partition.", valueName: "dir"))
    var bootDir: String

    @Option(help: ArgumentHelp("Directory inside --boot-dir holding the ISO images and the 'current' link.", valueName: "dir"))
    var imageDir: String

    public init() {}

    public func run() async throws {
        let result = try BootMenuUpdater().update(bootDir: bootDir, imageDir: imageDir)
        for line in Self.report(result) { printLine(line) }
    }

    /// The lines printed after an update.
    static func report(_ result: BootMenuUpdater.Result) -> [String] {
        let menu = result.menu
        var lines = menu.entries.enumerated().map { index, entry in
            var line = "\(index): \(entry.fileName)"
            if !entry.volumeID.isEmpty { line += " (\(printable(entry.volumeID)))" }
            if index == menu.defaultIndex { line += " [default]" }
            if index == menu.fallbackIndex { line += " [fallback]" }
            return line
        }
        lines += menu.skipped.map { "skipped \($0.fileName): \($0.reason)" }
        lines += result.notFiles.map { "skipped \(printable($0.fileName)): \($0.reason)" }
        lines += result.unreadable.map { "warning: cannot read the volume id of \($0)" }
        lines.append("wrote \(result.configPath) with \(menu.entries.count) entr\(menu.entries.count == 1 ? "y" : "ies")")
        return lines
    }
}
