import ArgumentParser
import Foundation
import IconCore
import IconPKI
import X509

/// `icon pki revoke`: add a certificate to the CA's revocation list.
struct PKIRevoke: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "revoke",
        abstract: "Revoke a certificate: add it to the CA's revocation list (crl.pem).",
        discussion: """
            Adds the certificate in <cert> to the X.509 v2 CRL of the CA in --ca-dir, with the \
            next CRL number: <ca-dir>/crl.pem, signed by the intermediate, for the certificates \
            it issued; <ca-dir>/root-crl.pem, signed by the root key, for the intermediate \
            itself. Publish the list with `icon publish --crl <ca-dir>/crl.pem`: machines keep \
            the newest list they have seen and refuse every manifest whose signer (or its \
            intermediate) it revokes, even one that comes without the list.

            Example, after a signer's key was stolen:
              icon pki revoke --ca-dir /etc/icon/ca /etc/icon/signer.cert.pem
            """
    )

    @Option(help: ArgumentHelp("Directory of the CA that issued the certificate (icon pki init).", valueName: "dir"))
    var caDir: String

    @Argument(help: ArgumentHelp("PEM file with the certificate to revoke.", valueName: "cert"))
    var cert: String

    func run() async throws {
        let ca = try CertificateAuthority(directory: caDir)
        guard let certificate = try PEMFile.certificates(atPath: cert).first else {
            throw IconError(.badKey, "no certificate in \(cert)")
        }
        let (list, path) = try ca.revoke(certificate, source: cert, now: Date())
        print("revoked \(certificate.subject) (serial \(certificate.serialNumber)); \(path): CRL number \(list.number), \(list.entries.count) revoked")
    }
}
