public import ArgumentParser
import IconBuild

/// `icon module certclient`: fetch a machine certificate at boot.
public struct ModuleCertclient: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "certclient",
        abstract: "Fetch this machine's own key and certificate into /systemid at boot.",
        discussion: """
            Copies the master client files into /etc/icon/certclient-<tag> and enables a \
            oneshot unit running `icon certclient` after /systemid is mounted. SYSTEMID in \
            --subject is replaced by the hostname. The certclient options are `icon certclient`'s \
            own, checked as it checks them (see `icon certclient --help`).

            Example:
              --module "icon module certclient \\
                --server https://certs.example.com:8444 --https-ca-cert ca.pem \\
                --https-client-cert master.pem --https-client-key master.key \\
                --tag www --subject '/O=Example/CN=SYSTEMID'"
            """)

    public init() {}

    @OptionGroup var chroot: ChrootOption
    @OptionGroup var binary: IconBinaryOption
    @OptionGroup(title: "Certclient options") var request: CertClientOptions
    @Option(help: ArgumentHelp("PEM file with the CA the server's TLS certificate chains to.", valueName: "file"))
    var httpsCACert: String
    @Option(help: ArgumentHelp("PEM master client certificate.", valueName: "file"))
    var httpsClientCert: String
    @Option(help: ArgumentHelp("PEM master client key.", valueName: "file"))
    var httpsClientKey: String

    /// The module these flags describe, checked as `icon certclient` checks them.
    ///
    /// - Throws: `.invalidArgument` naming the flag.
    func module() throws -> CertclientModule {
        try request.check()
        return CertclientModule(
            caCert: httpsCACert, clientCert: httpsClientCert, clientKey: httpsClientKey, tag: request.tag,
            clientArguments: request.arguments(placing: CertclientModule.installedFileArguments(tag: request.tag)))
    }

    public func run() async throws {
        try await module().apply(to: try chroot.context(), binary: binary.installer)
    }
}
