public import ArgumentParser
import Foundation
import IconPKI

/// `icon pki show CERT`: prints what a certificate says.
public struct PKIShow: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "show",
        abstract: "Show a certificate's subject, issuer, serial, validity, names and roles.",
        discussion: """
            Prints every certificate in the PEM file, separated by a blank line. Roles are the \
            Iconograph roles the certificate is marked for (signer, server, device, operator, \
            provisioner).

            Example:
              icon pki show keys/server.cert.pem
            """
    )

    @Argument(help: ArgumentHelp("PEM file with one or more certificates.", valueName: "cert"))
    var certificate: String

    public init() {}

    public func run() async throws {
        let certificates = try PEMFile.certificates(atPath: certificate)
        let now = Date()
        print(certificates.map { CertificateSummary($0, now: now).text }.joined(separator: "\n\n"))
    }
}
