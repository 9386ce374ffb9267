import ArgumentParser
import IconBuild

/// `icon module autoimage`: an installer image that images a disk on boot.
public struct ModuleAutoimage: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "autoimage",
        abstract: "Make an installer image that erases --device and images it on boot.",
        discussion: """
            Installs icon and a oneshot unit running `icon image --yes` with these flags \
            once the network is up. Use it for install USB sticks and PXE boot.

            Example:
              --module "icon module autoimage --base-url https://images.example.com/image/kiosk \\
                --ca-cert ca.pem --device /dev/sda --persistent-percent 50"
            """)

    public init() {}

    @OptionGroup var chroot: ChrootOption
    @Option(help: "Image directory URL (or server URL with --image-type).")
    var baseURL: String
    @Option(help: "PEM file of the CA the manifest signature must chain to.")
    var caCert: String
    @Option(help: "Device on the target machine to erase and image, e.g. /dev/sda.")
    var device: String
    @Option(help: "Percent of the disk for a PERSISTENT partition (0 = none).")
    var persistentPercent: Int = 0
    @Option(help: "Image type; appends /image/<type> to --base-url.")
    var imageType: String?
    @Option(help: "PEM file of the CAs for the HTTPS server certificate.")
    var httpsCACert: String?
    @Option(help: "PEM client certificate for mutual TLS.")
    var httpsClientCert: String?
    @Option(help: "PEM private key of --https-client-cert.")
    var httpsClientKey: String?

    public func run() async throws {
        let module = AutoimageModule(
            baseURL: baseURL, caCert: caCert, device: device, persistentPercent: persistentPercent,
            imageType: imageType, httpsCACert: httpsCACert, httpsClientCert: httpsClientCert,
            httpsClientKey: httpsClientKey)
        try module.apply(to: try chroot.context())
    }
}
