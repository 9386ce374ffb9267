import ArgumentParser
import IconBuild

/// `icon module systemid`: mount the system identity drive and take the hostname from it.
public struct ModuleSystemID: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "systemid",
        abstract: "Mount the SYSTEMID drive at /systemid and set the hostname from it.",
        discussion: """
            Adds a nofail /etc/fstab line for LABEL=SYSTEMID and a unit that, before the \
            network starts, sets the hostname to the first line of /systemid/systemid. \
            `icon systemid image` makes such drives.

            Example:
              --module "icon module systemid"
            """)

    public init() {}

    @OptionGroup var chroot: ChrootOption

    public func run() async throws {
        try SystemIDModule().apply(to: try chroot.context())
    }
}
