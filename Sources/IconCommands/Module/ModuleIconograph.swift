public import ArgumentParser
import IconBuild
import IconCore

/// `icon module iconograph`: installs icon and its agent into the image.
public struct ModuleIconograph: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "iconograph",
        abstract: "Install icon and the self-updating agent into the image.",
        discussion: """
            Copies the icon binary (this one, or --icon-binary) to /usr/local/bin/icon, the \
            CA and client files to \
            /etc/icon (the key 0600), writes /etc/icon/agent.env, and enables \
            icon-agent.service plus icon-boot-mount.service, which makes the BOOT partition \
            writable at /boot (bind-mounting live-boot's /run/live/findiso when present). \
            agent.env passes the agent --image-dir /boot/iconograph --boot-dir /boot, the \
            BOOT partition as that service mounts it.

            Example:
              --module "icon module iconograph \\
                --server wss://images.example.com:8443 \\
                --ca-cert ca.pem --https-ca-cert ca.pem \\
                --https-client-cert device.pem --https-client-key device.key \\
                --boot-tries 2 --good-after 90 --health-timeout 600 \\
                --health-command /usr/bin/systemctl \\
                --health-arg is-active --health-arg my-app.service"

            The agent options are `icon agent`'s own, checked as the agent checks them; those \
            given go to the agent unchanged (see `icon agent --help`), the others keep the \
            agent's defaults. The health command runs without a shell; an argument with \
            whitespace cannot pass systemd's word splitting of agent.env, so put such commands \
            in a script.

            The binary must be a release build with the Swift runtime linked in, which runs \
            on any Debian or Ubuntu root: scripts/build-release.sh makes it at dist/icon, and \
            the Debian package installs it as /usr/bin/icon. A debug build is refused.
            """)

    public init() {}

    @OptionGroup var chroot: ChrootOption
    @OptionGroup var binary: IconBinaryOption
    @OptionGroup(title: "Agent options") var agent: AgentOptions
    @Option(help: ArgumentHelp("PEM file of the CA that manifest signers chain to.", valueName: "file"))
    var caCert: String
    @Option(help: ArgumentHelp("PEM file of the CAs for the server's TLS certificate.", valueName: "file"))
    var httpsCACert: String
    @Option(help: ArgumentHelp("PEM client certificate the agent presents.", valueName: "file"))
    var httpsClientCert: String
    @Option(help: ArgumentHelp("PEM private key of --https-client-cert.", valueName: "file"))
    var httpsClientKey: String

    func healthCommandWords() throws -> [String] {
        try agent.healthCommandWords()
    }

    /// The module these flags describe, checked as `icon agent` checks them.
    ///
    /// - Throws: `.invalidArgument` naming the flag.
    func module() throws -> IconographModule {
        try agent.check()
        return IconographModule(
            caCert: caCert, httpsCACert: httpsCACert, httpsClientCert: httpsClientCert, httpsClientKey: httpsClientKey,
            agentArguments: agent.arguments(placing: IconographModule.installedFileArguments), binary: binary.installer)
    }

    public func run() async throws {
        try await module().apply(to: try chroot.context())
    }
}
