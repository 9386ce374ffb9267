import ArgumentParser
import Foundation
import IconPKI

/// `icon pki issue`: a new key and certificate for one role.
public struct PKIIssue: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "issue",
        abstract: "Issue a key and certificate for a signer, server, device or operator.",
        discussion: """
            Makes a new EC P-256 key and a certificate signed by the CA's intermediate, and \
            writes <out>.cert.pem, <out>.key.pem (mode 0600) and <out>.chain.pem (the \
            intermediate, for --other-cert or a TLS chain).

            Roles: signer (signs manifests), server (HTTPS server; --dns/--ip names, the name \
            itself when none are given), device (a fleet machine's client certificate), \
            operator (a client certificate allowed to administer the server).

            Example:
              icon pki issue --ca-dir ca --role server --name images.example.org \\
                --dns images.example.org --ip 192.0.2.10 --days 365 --out keys/server
            """
    )

    @Option(help: ArgumentHelp("The CA directory made by 'icon pki init'.", valueName: "dir"))
    var caDir: String

    @Option(help: "What the certificate is for.")
    var role: CertificateRole

    @Option(help: "The certificate's common name (CN), e.g. a host name or a person.")
    var name: String

    @Option(help: "A DNS name for a server or device certificate (repeatable).")
    var dns: [String] = []

    @Option(help: "An IPv4 or IPv6 address for a server or device certificate (repeatable).")
    var ip: [String] = []

    @Option(help: "Days the certificate stays valid (never beyond the intermediate's validity).")
    var days: Int = 365

    @Option(help: ArgumentHelp("Path prefix of the files to write: <out>.cert.pem, <out>.key.pem, <out>.chain.pem.", valueName: "prefix"))
    var out: String

    public init() {}

    public func run() async throws {
        let ca = try CertificateAuthority(directory: caDir)
        let issued = try ca.issue(
            role: role, commonName: name, dnsNames: dns, ipAddresses: ip, validityDays: days, now: Date())
        let paths = try issued.write(prefix: out)
        let certificate = issued.certificate
        print("issued \(role.rawValue) certificate \(certificate.subject), valid until \(certificate.notValidAfter.formatted(.iso8601))")
        print("  certificate: \(paths.certificate)")
        print("  key:         \(paths.key) (mode 0600)")
        print("  chain:       \(paths.chain)")
    }
}
