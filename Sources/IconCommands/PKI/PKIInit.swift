public import ArgumentParser
import Foundation
import IconPKI
import X509

/// `icon pki init DIR`: creates a private root and intermediate CA.
public struct PKIInit: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "init",
        abstract: "Create a private CA (root and intermediate) in a directory.",
        discussion: """
            Writes root.cert.pem, root.key.pem, intermediate.cert.pem and intermediate.key.pem \
            (EC P-384; keys mode 0600), and ca-bundle.pem: the root then the intermediate, for \
            servers and tools that want the whole CA chain in one file. The root may sign only \
            the intermediate (path length 1); the intermediate issues every certificate (path \
            length 0). The directory is created with mode 0700; an existing one that its group \
            or others may write is refused (chmod 700 it). Refuses to touch a directory that \
            already holds a CA.

            Give root.cert.pem to everything that checks certificates (--ca-cert). The root key is \
            needed only now: move root.key.pem somewhere offline afterwards.

            Example:
              icon pki init /etc/icon/ca --name "Example Fleet CA" \\
                --organization "Example Robotics"
            """
    )

    @Argument(help: ArgumentHelp("The directory for the CA files (created with mode 0700 if missing).", valueName: "dir"))
    var directory: String

    @Option(help: ArgumentHelp("The CA name; the certificates are named '<name> Root CA' and '<name> Intermediate CA'.", valueName: "name"))
    var name: String = "Iconograph"

    @Option(help: ArgumentHelp("The organization (O=) of the CA and of every certificate it issues.", valueName: "name"))
    var organization: String = "Iconograph"

    public init() {}

    public func run() async throws {
        let ca = try CertificateAuthority.create(in: directory, commonName: name, organization: organization, now: Date())
        let names = CertificateAuthority.FileName.self
        print("created CA in \(directory)")
        print("  root:         \(ca.rootCertificatePath) (\(ca.root.subject))")
        print("  root key:     \(directory)/\(names.rootKey) (mode 0600; keep it offline)")
        print("  intermediate: \(ca.intermediateCertificatePath) (\(ca.intermediate.subject))")
        print("  issuing key:  \(directory)/\(names.intermediateKey) (mode 0600)")
        print("  bundle:       \(ca.caBundlePath) (root then intermediate)")
        print("trust anchor for --ca-cert: \(ca.rootCertificatePath)")
    }
}
