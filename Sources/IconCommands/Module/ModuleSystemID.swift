public import ArgumentParser
import IconBuild

/// `icon module systemid`: mount the system identity drive and take the hostname from it.
public struct ModuleSystemID: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "systemid",
        abstract: "Mount the SYSTEMID drive at /systemid and set the hostname from it.",
        discussion: """
            Adds a noauto,nofail /etc/fstab line for LABEL=SYSTEMID and a unit that, \
            before the network starts, waits for udev to settle, mounts the drive when one \
            is attached and sets the hostname to the first line of /systemid/systemid. \
            Without the drive the image's own hostname stays. `icon systemid image` makes \
            such drives.

            Example:
              --module "icon module systemid"
            """)

    public init() {}

    @OptionGroup var chroot: ChrootOption

    public func run() async throws {
        try SystemIDModule().apply(to: try chroot.context())
    }
}
