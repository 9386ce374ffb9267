import ArgumentParser
import Foundation
import IconAgent
import IconCore
import IconTLS
import IconUpdate
import Logging
import IconProtocol

/// `icon agent`: the device daemon.
struct DeviceAgent: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "agent",
        abstract: "Run the device agent: report to the server and follow its pushes and commands.",
        discussion: """
            Keeps a WebSocket to the server's /ws/slave with the machine's client certificate and \
            reconnects with backoff and jitter whenever the server goes away. Every report interval \
            it sends hostname, uptime, the running image (every field of /etc/iconograph.json, and \
            --image-type as image_type), the next image (the `current` link) and the last status. \
            On `new_manifest` for its image type it fetches (verified, staged by the rollout rule) \
            and rewrites the boot menu; on `reboot` with a timestamp it fetches that image, makes \
            it current and reboots.

            --image-dir and --boot-dir have no defaults: the agent rewrites <boot-dir>/grub/grub.cfg \
            and grubenv, so they must name an Iconograph BOOT partition (made by `icon image`; \
            images built with `icon module iconograph` pass --image-dir /boot/iconograph \
            --boot-dir /boot). A boot directory whose grub.cfg Iconograph did not write (such as \
            a host's own /boot) is refused at start, and nothing is written there.

            The report hostname defaults to the system hostname; when the client certificate \
            does not carry it, to the certificate's DNS name (the first of several), which is \
            the name the server accepts reports under. The local files (--ca-cert and the TLS \
            files, the key matching the certificate) are checked once at start: a bad one ends \
            the agent with an error instead of retrying. A server that refuses the connection \
            (HTTP 403 on the upgrade, or a WebSocket close for a policy violation) has its \
            reason logged as an error; the agent keeps reconnecting with backoff.

            --server may name the server by IP address (wss://10.0.2.2:8443): its certificate \
            must then carry that address, or --server-name gives a DNS name it carries.

            Boot safety: a switch to a new image makes it pending in BOOT:/grub/grubenv with \
            --boot-tries boots (1 to 9). After --good-after seconds of uptime and a successful \
            --health-command (retried every 5 s), the agent marks the running image good. If \
            the health command has not succeeded after --health-timeout seconds of uptime and \
            the running image is still pending, the agent reboots the machine so GRUB counts \
            the try and, with none left, falls back to the last good image. At start the agent \
            notices such a fallback: it marks the failed image bad (never chosen by the rollout \
            again; `reboot` with its timestamp still forces it), points `current` back at the \
            running image and reports good_images, bad_images and last_rollback.

            Downloads are bounded as in `icon fetch` (--max-image-bytes, --stall-timeout). \
            SIGTERM (systemctl stop) or Ctrl-C ends the agent cleanly: a download in progress \
            is stopped and its partial file removed, nothing else changes.

            Shipped as a systemd unit (packaging/image/icon-agent.service); logs go to the journal.

            Example:
              icon agent --server wss://images.example.net:8443 \\
                --ca-cert /etc/icon/root.cert.pem \\
                --https-ca-cert /etc/icon/root.cert.pem \\
                --https-client-cert /etc/icon/device.chain.pem \\
                --https-client-key /etc/icon/device.key.pem \\
                --image-dir /boot/iconograph --boot-dir /boot \\
                --boot-tries 2 --good-after 60 --health-timeout 300 \\
                --health-command /usr/bin/systemctl \\
                --health-arg is-active --health-arg my-app.service
            """
    )

    @OptionGroup var options: AgentOptions

    @Option(help: ArgumentHelp("PEM file of the CA certificates that manifest signers must chain to.", valueName: "file"))
    var caCert: String

    @Option(help: ArgumentHelp("PEM file of the CAs that may sign the server's TLS certificate.", valueName: "file"))
    var httpsCACert: String

    @Option(help: ArgumentHelp("PEM client certificate (with chain) presented to the server.", valueName: "file"))
    var httpsClientCert: String

    @Option(help: ArgumentHelp("PEM private key of --https-client-cert.", valueName: "file"))
    var httpsClientKey: String

    @Option(help: ArgumentHelp(
        "Directory holding the ISOs, manifest.json and the `current` link, inside --boot-dir (e.g. /boot/iconograph).",
        valueName: "dir"))
    var imageDir: String

    @Option(help: ArgumentHelp(
        "Root of the Iconograph BOOT partition, where grub/grub.cfg and grub/grubenv are rewritten (e.g. /boot).",
        valueName: "dir"))
    var bootDir: String

    @Option(help: ArgumentHelp("JSON file describing the running image.", valueName: "file"))
    var runningImageFile: String = "/etc/iconograph.json"

    @Option(help: ArgumentHelp(
        "Hostname used in reports and by the rollout rule (default: the system's, or the client certificate's DNS name when it does not carry the system's).",
        valueName: "name"))
    var hostname: String?

    @Option(help: ArgumentHelp("Seconds between reports.", valueName: "seconds"))
    var reportInterval: Int = 5

    @Option(help: ArgumentHelp("Command run to reboot the machine (split at spaces, no shell).", valueName: "command"))
    var rebootCommand: String = "/bin/systemctl reboot"

    @OptionGroup var bounds: DownloadBoundsOptions

    func run() async throws {
        let logger = Logger(label: "icon.agent")
        let tls = ClientTLSFiles(caCertPath: httpsCACert, clientCertPath: httpsClientCert, clientKeyPath: httpsClientKey)
        // Local files first: a configuration that can never work ends the agent (systemd
        // restarts it) with one line naming the file, instead of a reconnect loop.
        try tls.validate()
        let (hostname, hostnameNote) = try reportHostname(tls: tls)
        let facts = DeviceFacts(hostname: hostname, runningImageFile: runningImageFile, imageDir: imageDir)
        guard let imageType = options.imageType ?? facts.imageType else {
            throw IconError(
                .invalidArgument, "no --image-type given and \(runningImageFile) names none")
        }
        guard reportInterval > 0 else {
            throw IconError(.invalidArgument, "--report-interval must be at least 1 second")
        }
        try bounds.check()
        let bootGuard = try bootGuardConfiguration()
        let agentConfiguration = AgentConfiguration(
            serverURL: options.server, serverName: options.serverName, httpsCACert: httpsCACert,
            clientCert: httpsClientCert, clientKey: httpsClientKey, imageType: imageType,
            reportInterval: .seconds(reportInterval), bootGuard: bootGuard)
        _ = try agentConfiguration.endpoint()
        let base = try options.baseURL ?? Self.defaultBaseURL(server: options.server, imageType: imageType)
        var fetcherConfiguration = FetcherConfiguration(
            baseURL: base, manifestTrustRoots: caCert, imageDir: imageDir, httpsCACert: httpsCACert,
            httpsClientCert: httpsClientCert, httpsClientKey: httpsClientKey, bootDir: bootDir, maxImages: options.maxImages,
            hostname: hostname, runningImageFile: runningImageFile, bootTries: options.bootTries)
        fetcherConfiguration.signatureThreshold = options.signatureThreshold
        bounds.apply(to: &fetcherConfiguration)
        try Fetcher(configuration: fetcherConfiguration).preflight()
        let actions = AgentActions.live(
            fetcher: fetcherConfiguration, bootDir: bootDir,
            rebootCommand: rebootCommand.split(separator: " ").map(String.init),
            healthCommand: try options.healthCommandWords(), healthCommandTimeout: .seconds(options.healthTimeout), logger: logger)
        let agent = Agent(configuration: agentConfiguration, facts: facts, actions: actions, logger: logger)
        // Said only once every flag is known good, so a usage error stays the one line printed.
        if let hostnameNote { logger.info("\(hostnameNote)") }
        do {
            // SIGTERM cancels the agent: a download in progress stops and removes its temp file.
            try await CancelOnInterrupt.run { try await agent.run() }
        } catch is CancellationError {
        }
        logger.notice("stopped")
    }

    /// `--hostname`, else the system hostname when the client certificate carries it, else
    /// the certificate's name, DNS or CN, as the server checks it; with a note to log when the
    /// choice is not the system hostname.
    func reportHostname(tls: ClientTLSFiles) throws -> (hostname: String, note: String?) {
        if let hostname { return (hostname, nil) }
        let choice = ReportHostname.choose(
            system: FetcherConfiguration.systemHostname(), certificateNames: try tls.clientCertificateHostnames(),
            certificatePath: httpsClientCert)
        return (choice.hostname, choice.note)
    }

    /// The boot-safety settings from the flags.
    /// - Throws: `.invalidArgument` naming the flag.
    func bootGuardConfiguration() throws -> BootGuardConfiguration {
        try options.check()
        return options.bootGuard(bootDir: bootDir, imageDir: imageDir, runningImageFile: runningImageFile)
    }

    /// `--health-command` and its `--health-arg`s.
    func healthCommandWords() throws -> [String] {
        try options.healthCommandWords()
    }

    static func defaultBaseURL(server: String, imageType: String) throws -> String {
        guard var components = URLComponents(string: server), components.scheme == "wss" else {
            throw IconError(.invalidArgument, "--server \(server) is not a wss:// URL")
        }
        components.scheme = "https"
        components.path = FleetPaths.imageBase(imageType)
        guard let url = components.string else {
            throw IconError(.invalidArgument, "--server \(server) gives no base URL for \(imageType)")
        }
        return url
    }
}
