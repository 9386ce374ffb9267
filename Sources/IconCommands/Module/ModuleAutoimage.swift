public import ArgumentParser
import IconBuild

/// `icon module autoimage`: an installer image that images a disk on boot.
public struct ModuleAutoimage: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "autoimage",
        abstract: "Make an installer image that erases --device and images it on boot.",
        discussion: """
            Installs icon and a oneshot unit running `icon image --yes` with these flags \
            once the network is up. Use it for install USB sticks and PXE boot. The image \
            options are `icon image`'s own, checked as it checks them (see `icon image --help`).

            Example:
              --module "icon module autoimage \\
                --base-url https://images.example.com/image/kiosk \\
                --ca-cert ca.pem --device /dev/sda --persistent-percent 50"
            """)

    public init() {}

    @OptionGroup var chroot: ChrootOption
    @OptionGroup var binary: IconBinaryOption
    @OptionGroup(title: "Image options") var disk: ImagerOptions
    @Option(help: ArgumentHelp("PEM file of the CA the manifest signature must chain to.", valueName: "file"))
    var caCert: String
    @Option(help: ArgumentHelp("PEM file of the CAs for the HTTPS server certificate.", valueName: "file"))
    var httpsCACert: String?
    @Option(help: ArgumentHelp("PEM client certificate for mutual TLS.", valueName: "file"))
    var httpsClientCert: String?
    @Option(help: ArgumentHelp("PEM private key of --https-client-cert.", valueName: "file"))
    var httpsClientKey: String?

    /// The module these flags describe, checked as `icon image` checks them.
    ///
    /// - Throws: `.invalidArgument` naming the flag.
    func module() throws -> AutoimageModule {
        try disk.check()
        let files = AutoimageModule.Files(
            caCert: caCert, httpsCACert: httpsCACert, httpsClientCert: httpsClientCert, httpsClientKey: httpsClientKey)
        return AutoimageModule(
            device: disk.device, files: files,
            imageArguments: disk.arguments(trust: files.trustArguments, https: files.httpsArguments))
    }

    public func run() async throws {
        try await module().apply(to: try chroot.context(), binary: binary.installer)
    }
}
