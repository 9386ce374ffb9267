public import ArgumentParser
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
              --module "icon module autoimage \\
                --base-url https://images.example.com/image/kiosk \\
                --ca-cert ca.pem --device /dev/sda --persistent-percent 50"
            """)

    public init() {}

    @OptionGroup var chroot: ChrootOption
    @Option(help: ArgumentHelp("Image directory URL (or server URL with --image-type).", valueName: "url"))
    var baseURL: String
    @Option(help: ArgumentHelp("PEM file of the CA the manifest signature must chain to.", valueName: "file"))
    var caCert: String
    @Option(help: ArgumentHelp("Device on the target machine to erase and image, e.g. /dev/sda.", valueName: "device"))
    var device: String
    @Option(help: ArgumentHelp("Percent of the disk for a PERSISTENT partition (0 = none).", valueName: "percent"))
    var persistentPercent: Int = 0
    @Option(help: ArgumentHelp("Image type; appends /image/<type> to --base-url.", valueName: "type"))
    var imageType: String?
    @Option(help: ArgumentHelp("PEM file of the CAs for the HTTPS server certificate.", valueName: "file"))
    var httpsCACert: String?
    @Option(help: ArgumentHelp("PEM client certificate for mutual TLS.", valueName: "file"))
    var httpsClientCert: String?
    @Option(help: ArgumentHelp("PEM private key of --https-client-cert.", valueName: "file"))
    var httpsClientKey: String?

    public func run() async throws {
        let module = AutoimageModule(
            baseURL: baseURL, caCert: caCert, device: device, persistentPercent: persistentPercent,
            imageType: imageType, httpsCACert: httpsCACert, httpsClientCert: httpsClientCert,
            httpsClientKey: httpsClientKey)
        try module.apply(to: try chroot.context())
    }
}
