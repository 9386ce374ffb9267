public import ArgumentParser
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
        var command: any ParsableCommand
        do {
            command = try parseAsRoot(RenamedFlags.rewrite(Array(CommandLine.arguments.dropFirst())))
        } catch {
            if exitCode(for: error) == .success {
                exit(withError: error)  // --help, --version
            }
            FileHandle.standardError.write(Data(usageError(error).utf8))
            Foundation.exit(ExitCode.validationFailure.rawValue)
        }
        do {
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
            // A command group run without a subcommand asks for its help; other argument-parser
            // errors are usage mistakes as at parse time.
            if exitCode(for: error) == .success || error is ExitCode {
                exit(withError: error)
            }
            if String(reflecting: type(of: error)).hasPrefix("ArgumentParser.") {
                FileHandle.standardError.write(Data(usageError(error).utf8))
                Foundation.exit(ExitCode.validationFailure.rawValue)
            }
            // Not a usage mistake (the command line parsed) and not one of ours: a defect.
            FileHandle.standardError.write(Data("icon: internal: \(error) (a bug: please report it)\n".utf8))
            Foundation.exit(1)
        }
    }

    /// A command-line mistake (a missing or unknown flag, a bad value) as every subcommand
    /// prints it: one line naming the flag, then the subcommand's usage line.
    ///
    ///     icon: usage: Missing expected argument '--cert <file>' (see 'icon publish --help')
    ///     Usage: icon publish --image-dir <dir> --cert <file> --key <file> [...]
    static func usageError(_ error: any Error) -> String {
        let lines = fullMessage(for: error).split(separator: "\n", omittingEmptySubsequences: true).map(String.init)
        var message = message(for: error).trimmingCharacters(in: .whitespacesAndNewlines)
        if message.hasPrefix("Error: ") { message.removeFirst("Error: ".count) }
        message = message.split(whereSeparator: \.isNewline).joined(separator: " ")
        let usage = lines.first { $0.hasPrefix("Usage: ") }
        let seeHelp = lines.first { $0.contains("--help' for more information") }
            .flatMap { line in line.range(of: "'").map { String(line[$0.lowerBound...]) } }
            .map { $0.replacingOccurrences(of: " for more information.", with: "") }
        var text = "icon: usage: \(message)"
        if let seeHelp { text += " (see \(seeHelp))" }
        text += "\n"
        if let usage { text += usage + "\n" }
        return text
    }
}
