import ArgumentParser
import IconCore

/// The root of the `icon` command tree.
public struct IconCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "icon",
        abstract: "Build, publish, serve and deploy signed bootable system images.",
        version: IconVersion.string,
        subcommands: []
    )

    public init() {}
}
