public import ArgumentParser
import Foundation
import IconCore
import IconPKI
import X509

/// `icon pki issue`: a new key and certificate for one role.
public struct PKIIssue: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "issue",
        abstract: "Issue a key and certificate for a signer, server, device, operator or provisioner.",
        discussion: """
            Makes a new EC P-256 key and a certificate signed by the CA's intermediate, and \
            writes <out>.cert.pem, <out>.key.pem (mode 0600) and <out>.chain.pem (the \
            certificate followed by the intermediate, for --other-cert or a TLS chain).

            For the operator role it also writes <out>.p12 (mode 0600): the certificate, the \
            intermediate and the key as one PKCS#12 file for a browser or key store to import, \
            protected by the first line of --p12-password-file, or else by a new random \
            password written to <out>.p12.password (mode 0600; never printed). --p12 (or a \
            --p12-password-file) writes it for any role, --no-p12 never.

            Roles: signer (signs manifests), server (HTTPS server; --dns/--ip names, the name \
            itself when none are given), device (a fleet machine's client certificate), \
            operator (a client certificate allowed to administer the server), provisioner (a \
            client certificate icon certserver issues machine certificates to).

            Example:
              icon pki issue --ca-dir ca --role server --name images.example.org \\
                --dns images.example.org --ip 192.0.2.10 --days 365 --out keys/server
              icon pki issue --ca-dir ca --role operator --name "Alice Operator" \\
                --out keys/alice
              icon pki issue --ca-dir ca --role provisioner --name "Imaging Station" \\
                --out keys/provisioner
            """
    )

    @Option(help: ArgumentHelp("The CA directory made by 'icon pki init'.", valueName: "dir"))
    var caDir: String

    @Option(help: ArgumentHelp("What the certificate is for.", valueName: "role"))
    var role: CertificateRole

    @Option(help: ArgumentHelp("The certificate's common name (CN), e.g. a host name or a person.", valueName: "name"))
    var name: String

    @Option(help: ArgumentHelp("A DNS name for a server or device certificate (repeatable).", valueName: "name"))
    var dns: [String] = []

    @Option(help: ArgumentHelp("An IPv4 or IPv6 address for a server or device certificate (repeatable).", valueName: "address"))
    var ip: [String] = []

    @Option(help: ArgumentHelp("Days the certificate stays valid (never beyond the intermediate's validity).", valueName: "n"))
    var days: Int = 365

    @Option(help: ArgumentHelp("Path prefix of the files to write: <out>.cert.pem, <out>.key.pem, <out>.chain.pem.", valueName: "prefix"))
    var out: String

    @Flag(inversion: .prefixedNo, help: "Also write <out>.p12 (PKCS#12). Default: only for the operator role.")
    var p12: Bool?

    @Option(help: ArgumentHelp("File whose first line is the <out>.p12 password (else a new one goes to <out>.p12.password).", valueName: "file"))
    var p12PasswordFile: String?

    public init() {}

    /// Whether to write `<out>.p12`: as asked, else for operators or when a password file is given.
    var writesPKCS12: Bool { p12 ?? (role == .operator || p12PasswordFile != nil) }

    public func run() async throws {
        if p12 == false, let p12PasswordFile {
            throw IconError(.invalidArgument, "--p12-password-file \(p12PasswordFile) is for the .p12 file, which --no-p12 turns off; drop one of them")
        }
        // Read the password before anything is written, so a bad file leaves no half-done output.
        let password = try p12PasswordFile.map { try PKCS12Password.read(fromFile: $0) }
        let ca = try CertificateAuthority(directory: caDir)
        let issued = try ca.issue(
            role: role, commonName: name, dnsNames: dns, ipAddresses: ip, validityDays: days, now: Date())
        let paths = try issued.write(prefix: out)
        let bundle = writesPKCS12 ? try issued.writePKCS12(prefix: out, password: password) : nil
        let certificate = issued.certificate
        print("issued \(role.rawValue) certificate \(certificate.subject), valid until \(certificate.notValidAfter.formatted(.iso8601))")
        print("  certificate: \(paths.certificate)")
        print("  key:         \(paths.key) (mode 0600)")
        print("  chain:       \(paths.chain)")
        if let bundle {
            print("  pkcs12:      \(bundle.bundle) (mode 0600; import it into a browser or key store)")
            if let p12PasswordFile {
                print("  password:    the first line of \(p12PasswordFile)")
            } else if let passwordFile = bundle.passwordFile {
                print("  password:    in \(passwordFile) (mode 0600)")
            }
        }
    }
}
