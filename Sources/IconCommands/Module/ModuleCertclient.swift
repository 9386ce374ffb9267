import ArgumentParser
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
              --module "icon module certclient --server https://certs.example.com:8444 \\
                --ca-cert ca.pem --client-cert master.pem --client-key master.key \\
                --tag www --subject '/O=Example/CN=SYSTEMID'"
            """)

    public init() {}

    @OptionGroup var chroot: ChrootOption
    @Option(help: "URL of the certificate server.")
    var server: String
    @Option(help: "PEM file with the CA the server's TLS certificate chains to.")
    var caCert: String
    @Option(help: "PEM master client certificate.")
    var clientCert: String
    @Option(help: "PEM master client key.")
    var clientKey: String
    @Option(help: "Name part for the files, so the module can run once per tag.")
    var tag: String
    @Option(help: "Subject to request; SYSTEMID is replaced by the hostname.")
    var subject: String

    public func run() async throws {
        let module = CertclientModule(
            server: server, caCert: caCert, clientCert: clientCert, clientKey: clientKey, tag: tag, subject: subject)
        try module.apply(to: try chroot.context())
    }
}
