public import ArgumentParser
import Foundation
import IconCore
import IconMachineTools
import IconTLS
import Logging

/// `icon certclient`: gets this machine its own key and certificate from `icon certserver`.
public struct CertClient: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "certclient",
        abstract: "Get this machine a key and certificate from a certificate server.",
        discussion: """
            Authenticates to `icon certserver` with a provisioner certificate (icon pki issue \
            --role provisioner; or a certificate of a separate client CA) and stores, in \
            --systemid-dir, for hostname H and tag T:
              H.T.key.pem   a P-384 key (mode 0600), created if missing and then kept
              H.T.cert.pem  the certificate and CA chain, requested if missing (or with --renew)
              H.T.dh.pem    RFC 7919 Diffie-Hellman parameters, only with --dh-bits
              T.key.pem, T.cert.pem, T.dh.pem  relative symlinks to the files above
            SYSTEMID in --subject is replaced by the hostname, which `icon systemid` sets from the \
            system id drive. Use a different --tag per server (say, one for HTTPS, one for EAP-TLS).

            Example:
              icon certclient --server https://certserver:8444/ \\
                --https-ca-cert certserver-ca.pem \\
                --https-client-cert master.cert.pem \\
                --https-client-key master.key.pem --tag www \\
                --subject '/C=US/ST=California/O=Example/CN=SYSTEMID'
            """)

    @OptionGroup var request: CertClientOptions
    @Option(help: ArgumentHelp("PEM file with the CA the server's TLS certificate must chain to.", valueName: "file"))
    var httpsCACert: String
    @Option(help: ArgumentHelp("PEM file with the provisioner (or master) client certificate and its chain.", valueName: "file"))
    var httpsClientCert: String
    @Option(help: ArgumentHelp("PEM file with the key of --https-client-cert.", valueName: "file"))
    var httpsClientKey: String
    @Option(help: ArgumentHelp("Directory for keys, certificates and links.", valueName: "dir"))
    var systemidDir = "/systemid"
    @Option(help: ArgumentHelp("Machine name to use instead of the system hostname.", valueName: "name"))
    var hostname: String?
    @Flag(help: "Request a new certificate even if one is stored (the key is kept).")
    var renew = false

    public init() {}

    public func run() async throws {
        let configuration = CertificateClient.Configuration(
            serverURL: request.server,
            tls: ClientTLSFiles(caCertPath: httpsCACert, clientCertPath: httpsClientCert, clientKeyPath: httpsClientKey),
            tag: request.tag, subject: request.subject, systemIDDirectory: systemidDir, hostname: hostname,
            dhBits: request.dhBits, renew: renew)
        let outcome = try await CertificateClient(configuration: configuration, logger: Logger(label: "icon.certclient")).run()
        let action = outcome.requestedCertificate ? "stored" : "kept"
        FileHandle.standardOutput.write(Data("\(action) \(outcome.certPath)\n".utf8))
    }
}
