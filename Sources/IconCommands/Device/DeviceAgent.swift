import ArgumentParser
import Foundation
import IconCore
import IconDevice
import Logging

/// `icon agent`: the device daemon.
struct DeviceAgent: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "agent",
        abstract: "Run the device agent: report to the server and follow its pushes and commands.",
        discussion: """
            Keeps a WebSocket to the server's /ws/slave with the machine's client certificate and \
            reconnects with backoff and jitter whenever the server goes away. Every report interval \
            it sends hostname, uptime, the running image (every field of /etc/iconograph.json), the \
            next image (the `current` link) and the last status. On `new_manifest` for its image \
            type it fetches (verified, staged by the rollout rule) and rewrites the boot menu; on \
            `reboot` with a timestamp it fetches that image, makes it current and reboots.

            Boot safety: a switch to a new image makes it pending in BOOT:/grub/grubenv with \
            --boot-tries boots (1 to 9). After --good-after seconds of uptime and a successful \
            --health-command (retried every 5 s), the agent marks the running image good. If \
            the health command has not succeeded after --health-timeout seconds of uptime and \
            the running image is still pending, the agent reboots the machine so GRUB counts \
            the try and, with none left, falls back to the last good image. At start the agent \
            notices such a fallback: it marks the failed image bad (never chosen by the rollout \
            again; `reboot` with its timestamp still forces it), points `current` back at the \
            running image and reports good_images, bad_images and last_rollback.

            Shipped as a systemd unit (dist/icon-agent.service); logs go to the journal.

            Example:
              icon agent --server wss://images.example.net:8443 \\
                --ca-cert /etc/icon/root.cert.pem --https-ca-cert /etc/icon/root.cert.pem \\
                --https-client-cert /etc/icon/device.chain.pem --https-client-key /etc/icon/device.key.pem \\
                --base-url https://images.example.net:8443/image/robot \\
                --image-dir /boot/iconograph --boot-dir /boot \\
                --boot-tries 2 --good-after 60 --health-timeout 300 \\
                --health-command /usr/bin/systemctl --health-arg is-active --health-arg my-app.service
            """
    )

    @Option(help: "The server's WebSocket URL, wss://host:port (the path /ws/slave is added).")
    var server: String

    @Option(help: "DNS name in the server certificate, when --server names the server by IP address.")
    var serverName: String?

    @Option(help: "Base URL of this machine's image type (default: https://<server host:port>/image/<image type>).")
    var baseURL: String?

    @Option(help: "PEM file of the CA certificates that manifest signers must chain to.")
    var caCert: String

    @Option(help: "PEM file of the CAs that may sign the server's TLS certificate.")
    var httpsCACert: String

    @Option(help: "PEM client certificate (with chain) presented to the server.")
    var httpsClientCert: String

    @Option(help: "PEM private key of --https-client-cert.")
    var httpsClientKey: String

    @Option(help: "Directory holding the ISOs, manifest.json and the `current` link.")
    var imageDir: String = "/boot/iconograph"

    @Option(help: "Root of the BOOT partition, where grub/grub.cfg is rewritten after each fetch.")
    var bootDir: String = "/boot"

    @Option(help: "Image type to follow (default: image_type from --running-image-file).")
    var imageType: String?

    @Option(help: "JSON file describing the running image.")
    var runningImageFile: String = "/etc/iconograph.json"

    @Option(help: "Number of recent images to keep; 0 keeps all.")
    var maxImages: Int = 5

    @Option(help: "Hostname used in reports and by the rollout rule (default: the system's).")
    var hostname: String?

    @Option(help: "Seconds between reports.")
    var reportInterval: Int = 5

    @Option(help: "Command run to reboot the machine.")
    var rebootCommand: String = "/bin/systemctl reboot"

    @Option(help: "Boot tries a newly fetched image gets before GRUB falls back to the last good image (1 to 9).")
    var bootTries: Int = 1

    @Option(help: "Seconds of uptime before the running image may be marked good.")
    var goodAfter: Int = 60

    @Option(help: ArgumentHelp(
        "Executable (absolute path, no shell) that must exit 0 before the running image is marked good; none by default.",
        valueName: "path"))
    var healthCommand: String?

    @Option(parsing: .unconditionalSingleValue, help: ArgumentHelp("One argument of --health-command (taken as is, even when it starts with -); repeat for several.", valueName: "word"))
    var healthArg: [String] = []

    @Option(help: "Seconds of uptime by which the health command must have succeeded; a pending image that has not is abandoned by rebooting.")
    var healthTimeout: Int = 300

    func run() async throws {
        let logger = Logger(label: "icon.agent")
        let hostname = hostname ?? ProcessInfo.processInfo.hostName
        let facts = DeviceFacts(hostname: hostname, runningImageFile: runningImageFile, imageDir: imageDir)
        guard let imageType = imageType ?? facts.imageType else {
            throw IconError(
                .invalidArgument, "no --image-type given and \(runningImageFile) names none")
        }
        guard reportInterval > 0 else {
            throw IconError(.invalidArgument, "--report-interval must be at least 1 second")
        }
        let bootGuard = try bootGuardConfiguration()
        let agentConfiguration = AgentConfiguration(
            serverURL: server, serverName: serverName, httpsCACert: httpsCACert,
            clientCert: httpsClientCert, clientKey: httpsClientKey, imageType: imageType,
            reportInterval: .seconds(reportInterval), bootGuard: bootGuard)
        let base = try baseURL ?? Self.defaultBaseURL(server: server, imageType: imageType)
        let fetcherConfiguration = FetcherConfiguration(
            baseURL: base, manifestTrustRoots: caCert, imageDir: imageDir, httpsCACert: httpsCACert,
            httpsClientCert: httpsClientCert, httpsClientKey: httpsClientKey, maxImages: maxImages,
            hostname: hostname, runningImageFile: runningImageFile, bootTries: bootTries)
        let actions = AgentActions.live(
            fetcher: fetcherConfiguration, bootDir: bootDir,
            rebootCommand: rebootCommand.split(separator: " ").map(String.init),
            healthCommand: try healthCommandWords(), healthCommandTimeout: .seconds(healthTimeout), logger: logger)
        let agent = Agent(configuration: agentConfiguration, facts: facts, actions: actions, logger: logger)
        try await agent.run()
    }

    /// The boot-safety settings from the flags.
    /// - Throws: `.invalidArgument` naming the flag.
    func bootGuardConfiguration() throws -> BootGuardConfiguration {
        let configuration = BootGuardConfiguration(
            bootDir: bootDir, imageDir: imageDir, runningImageFile: runningImageFile, bootTries: bootTries,
            goodAfter: .seconds(goodAfter), healthTimeout: .seconds(healthTimeout))
        try configuration.validate()
        _ = try healthCommandWords()
        return configuration
    }

    /// `--health-command` and its `--health-arg`s.
    /// - Throws: `.invalidArgument` for arguments without a command or a relative path.
    func healthCommandWords() throws -> [String] {
        if let healthCommand, !healthCommand.hasPrefix("/") {
            throw IconError(.invalidArgument, "--health-command \(healthCommand) must be an absolute path (no shell runs it)")
        }
        return try IconCommands.healthCommandWords(command: healthCommand, arguments: healthArg)
    }

    static func defaultBaseURL(server: String, imageType: String) throws -> String {
        guard var components = URLComponents(string: server), components.scheme == "wss" else {
            throw IconError(.invalidArgument, "--server \(server) is not a wss:// URL")
        }
        components.scheme = "https"
        components.path = "/image/\(imageType)"
        guard let url = components.string else {
            throw IconError(.invalidArgument, "--server \(server) gives no base URL for \(imageType)")
        }
        return url
    }
}
