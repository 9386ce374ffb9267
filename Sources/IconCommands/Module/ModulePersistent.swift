public import ArgumentParser
import IconBuild

/// `icon module persistent`: mount LABEL=PERSISTENT at /persistent.
public struct ModulePersistent: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "persistent",
        abstract: "Mount the PERSISTENT partition at /persistent when present.",
        discussion: """
            Adds a nofail /etc/fstab line for LABEL=PERSISTENT, so data under /persistent \
            survives reboots. `icon image --persistent-percent` makes that partition.

            Example:
              --module "icon module persistent"
            """)

    public init() {}

    @OptionGroup var chroot: ChrootOption

    public func run() async throws {
        try PersistentModule().apply(to: try chroot.context())
    }
}
