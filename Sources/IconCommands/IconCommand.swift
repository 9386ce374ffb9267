import ArgumentParser
import Foundation
import IconCore

/// The root of the `icon` command tree.
public struct IconCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "icon",
        abstract: "Build, sign, serve and deploy bootable system images to fleets of machines.",
        discussion: """
            Iconograph distributes whole system images (live ISOs) to machines. A publisher signs a \
            manifest of images with an X.509 certificate; each machine verifies it, picks an image by \
            the staged-rollout rule, downloads it, checks its hash and switches its boot menu to it.

            Run `icon help <subcommand>` for the flags and an example of each command.
            """,
        version: IconVersion.string,
        subcommands: [
            PKICommand.self,
            ManifestPublish.self,
            ManifestRollout.self,
            ManifestVerify.self,
            ServerRun.self,
            DeviceFetch.self,
            DeviceAgent.self,
            BootUpdateGrub.self,
            BuildImage.self,
            CacheCommand.self,
            DeviceImage.self,
            SystemIDCommand.self,
            ModuleCommand.self,
            CertServerRun.self,
            CertClient.self,
            WaitForService.self,
            FetchArchive.self,
            OperatorCommand.self,
        ]
    )

    public init() {}

    /// Parses the command line, runs the command, and prints an `IconError` as one line
    /// (`icon: code: message`) with exit status 1.
    public static func main() async {
        do {
            var command = try parseAsRoot()
            if var asyncCommand = command as? any AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
        } catch let error as IconError {
            // Library causes (TLS, NIO, decoding) only with ICON_LOG_LEVEL=debug or trace.
            let level = ProcessInfo.processInfo.environment["ICON_LOG_LEVEL"]?.lowercased()
            let text = level == "debug" || level == "trace" ? error.debugDescription : error.description
            FileHandle.standardError.write(Data("icon: \(text)\n".utf8))
            Foundation.exit(1)
        } catch {
            exit(withError: error)
        }
    }
}
