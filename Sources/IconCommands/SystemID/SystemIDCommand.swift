public import ArgumentParser

/// `icon systemid`: the group of system identity drive commands.
public struct SystemIDCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "systemid",
        abstract: "Make system identity drives.",
        discussion: """
            A system identity drive is a small separate device (USB stick, SD card) with an \
            ext4 filesystem labelled SYSTEMID that survives re-imaging: the `systemid` boot \
            module mounts it at /systemid and sets the hostname from its id.

            Example:
              sudo icon systemid image --device /dev/sdy --db-dir /var/lib/iconograph
            """,
        subcommands: [SystemIDImage.self]
    )

    public init() {}
}
