public import ArgumentParser
import IconBuild

/// `icon module openssh`: an SSH server using the system identity drive's host key.
public struct ModuleOpenSSH: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "openssh",
        abstract: "Install openssh-server, preferring the SYSTEMID drive's host key.",
        discussion: """
            Runs apt-get in the chroot and adds an sshd_config drop-in listing \
            /systemid/ssh_host_ed25519_key first, so a machine keeps its SSH identity across \
            images when its identity drive holds a key.

            Example:
              --module "icon module openssh"
            """)

    public init() {}

    @OptionGroup var chroot: ChrootOption

    public func run() async throws {
        try await OpenSSHModule().apply(to: try chroot.context())
    }
}
