import ArgumentParser
import IconBuild

/// `icon module iconograph`: installs icon and its agent into the image.
public struct ModuleIconograph: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "iconograph",
        abstract: "Install icon and the self-updating agent into the image.",
        discussion: """
            Copies this icon binary to /usr/local/bin/icon, the CA and client files to \
            /etc/icon (the key 0600), writes /etc/icon/agent.env, and enables \
            icon-agent.service plus icon-boot-mount.service, which makes the BOOT partition \
            writable at /boot (bind-mounting live-boot's /run/live/findiso when present).

            Example:
              --module "icon module iconograph --server wss://images.example.com:8443 \\
                --ca-cert ca.pem --https-ca-cert ca.pem \\
                --https-client-cert device.pem --https-client-key device.key"
            """)

    public init() {}

    @OptionGroup var chroot: ChrootOption
    @Option(help: "The fleet server's WebSocket URL (wss://host:port).")
    var server: String
    @Option(help: "DNS name in the server certificate, when --server is an IP address.")
    var serverName: String?
    @Option(help: "Base URL of the image type (default: derived from --server by the agent).")
    var baseURL: String?
    @Option(help: "PEM file of the CA that manifest signers chain to.")
    var caCert: String
    @Option(help: "PEM file of the CAs for the server's TLS certificate.")
    var httpsCACert: String
    @Option(help: "PEM client certificate the agent presents.")
    var httpsClientCert: String
    @Option(help: "PEM private key of --https-client-cert.")
    var httpsClientKey: String
    @Option(help: "Image type to follow (default: the image's own).")
    var imageType: String?
    @Option(help: "Number of recent images to keep on the device; 0 keeps all (agent default 5).")
    var maxImages: Int?

    public func run() async throws {
        let module = IconographModule(
            server: server, serverName: serverName, baseURL: baseURL, caCert: caCert, httpsCACert: httpsCACert,
            httpsClientCert: httpsClientCert, httpsClientKey: httpsClientKey, imageType: imageType,
            maxImages: maxImages)
        try await module.apply(to: try chroot.context())
    }
}
