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
            --subject is replaced by the hostname.

            Example:
              --module "icon module certclient \\
                --server https://certs.example.com:8444 --https-ca-cert ca.pem \\
                --https-client-cert master.pem --https-client-key master.key \\
                --tag www --subject '/O=Example/CN=SYSTEMID'"
            """)

    public init() {}

    @OptionGroup var chroot: ChrootOption
    @Option(help: ArgumentHelp("URL of the certificate server.", valueName: "url"))
    var server: String
    @Option(help: ArgumentHelp("PEM file with the CA the server's TLS certificate chains to.", valueName: "file"))
    var httpsCACert: String
    @Option(help: ArgumentHelp("PEM master client certificate.", valueName: "file"))
    var httpsClientCert: String
    @Option(help: ArgumentHelp("PEM master client key.", valueName: "file"))
    var httpsClientKey: String
    @Option(help: ArgumentHelp("Name part for the files, so the module can run once per tag.", valueName: "tag"))
    var tag: String
    @Option(help: ArgumentHelp("Subject to request; SYSTEMID is replaced by the hostname.", valueName: "subject"))
    var subject: String

    public func run() async throws {
        let module = CertclientModule(
            server: server, caCert: httpsCACert, clientCert: httpsClientCert, clientKey: httpsClientKey, tag: tag, subject: subject)
        try module.apply(to: try chroot.context())
    }
}
