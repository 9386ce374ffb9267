public import ArgumentParser
import IconBuild
import IconCore

/// `icon module iconograph`: installs icon and its agent into the image.
public struct ModuleIconograph: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "iconograph",
        abstract: "Install icon and the self-updating agent into the image.",
        discussion: """
            Copies this icon binary to /usr/local/bin/icon, the CA and client files to \
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

            Boot safety: --boot-tries, --good-after, --health-command (with one --health-arg \
            per argument) and --health-timeout go to the agent unchanged (see `icon agent --help`). \
            The health command runs without a shell; an argument with whitespace cannot pass \
            systemd's word splitting of agent.env, so put such commands in a script.
            """)

    public init() {}

    @OptionGroup var chroot: ChrootOption
    @Option(help: ArgumentHelp("The fleet server's WebSocket URL (wss://host:port).", valueName: "url"))
    var server: String
    @Option(help: ArgumentHelp(
        "DNS name to check in the server certificate instead of the --server host.", valueName: "name"))
    var serverName: String?
    @Option(help: ArgumentHelp("Base URL of the image type (default: derived from --server by the agent).", valueName: "url"))
    var baseURL: String?
    @Option(help: ArgumentHelp("PEM file of the CA that manifest signers chain to.", valueName: "file"))
    var caCert: String
    @Option(help: ArgumentHelp("PEM file of the CAs for the server's TLS certificate.", valueName: "file"))
    var httpsCACert: String
    @Option(help: ArgumentHelp("PEM client certificate the agent presents.", valueName: "file"))
    var httpsClientCert: String
    @Option(help: ArgumentHelp("PEM private key of --https-client-cert.", valueName: "file"))
    var httpsClientKey: String
    @Option(help: ArgumentHelp("Image type to follow (default: the image's own).", valueName: "type"))
    var imageType: String?
    @Option(help: ArgumentHelp("Number of recent images to keep on the device; 0 keeps all (agent default 5).", valueName: "n"))
    var maxImages: Int?
    @Option(help: ArgumentHelp(
        "Boot tries a new image gets before GRUB falls back to the last good one, 1 to 9 (agent default 1).", valueName: "n"))
    var bootTries: Int?
    @Option(help: ArgumentHelp(
        "Seconds of uptime before the agent may mark the running image good (agent default 60).", valueName: "seconds"))
    var goodAfter: Int?
    @Option(help: ArgumentHelp(
        "Absolute path of a health command (no shell) that must succeed before the image is marked good.",
        valueName: "path"))
    var healthCommand: String?
    @Option(parsing: .unconditionalSingleValue, help: ArgumentHelp(
        "One argument of --health-command (taken as is, even when it starts with -); repeat for several. Words may not contain whitespace.",
        valueName: "word"))
    var healthArg: [String] = []
    @Option(help: ArgumentHelp(
        "Seconds of uptime by which the health command must succeed, else a new image is abandoned by rebooting (agent default 300).",
        valueName: "seconds"))
    var healthTimeout: Int?

    func healthCommandWords() throws -> [String] {
        try IconCommands.healthCommandWords(command: healthCommand, arguments: healthArg)
    }

    public func run() async throws {
        let module = IconographModule(
            server: server, serverName: serverName, baseURL: baseURL, caCert: caCert, httpsCACert: httpsCACert,
            httpsClientCert: httpsClientCert, httpsClientKey: httpsClientKey, imageType: imageType,
            maxImages: maxImages, bootTries: bootTries, goodAfter: goodAfter,
            healthCommand: try healthCommandWords(), healthTimeout: healthTimeout)
        try await module.apply(to: try chroot.context())
    }
}
