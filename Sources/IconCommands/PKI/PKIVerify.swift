public import ArgumentParser
import Foundation
import IconCore
import IconPKI
import X509

/// `icon pki verify`: checks a certificate against a CA for a purpose.
public struct PKIVerify: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Check that a certificate chains to a trusted CA and suits a purpose.",
        discussion: """
            Builds a chain from the certificate through the --other-cert certificates (and any \
            further certificates in the certificate file) to a root in --ca-cert, and checks \
            validity now, CA constraints, path lengths and key usages for --purpose. Prints \
            'trusted: <subject>' or fails with the reason and exit status 1.

            Example:
              icon pki verify --ca-cert ca/root.cert.pem \\
                --other-cert keys/server.chain.pem \\
                --purpose server keys/server.cert.pem
            """
    )

    /// What to check the certificate for.
    enum Purpose: String, CaseIterable, ExpressibleByArgument {
        case signing, server, client, `operator`, provisioner

        var certificatePurpose: CertificatePurpose {
            switch self {
            case .signing: .manifestSigning
            case .server: .serverAuth
            case .client: .clientAuth
            case .operator: .operatorClient
            case .provisioner: .provisionerClient
            }
        }
    }

    @Option(help: ArgumentHelp("PEM file of the trusted root certificate(s); may hold several.", valueName: "file"))
    var caCert: String

    @Option(help: ArgumentHelp("PEM file of intermediate certificates to build the chain with (repeatable).", valueName: "file"))
    var otherCert: [String] = []

    @Option(help: "What the certificate must be good for.")
    var purpose: Purpose = .signing

    @Argument(help: ArgumentHelp("PEM file whose first certificate is checked.", valueName: "cert"))
    var certificate: String

    public init() {}

    public func run() async throws {
        let verifier = try ChainVerifier(rootsFile: caCert)
        let certificates = try PEMFile.certificates(atPath: certificate)
        var intermediates = Array(certificates.dropFirst())
        for path in otherCert {
            intermediates += try PEMFile.certificates(atPath: path)
        }
        let leaf = certificates[0]
        switch await verifier.verify(leaf: leaf, intermediates: intermediates, purpose: purpose.certificatePurpose, now: Date()) {
        case .trusted(let chain):
            print("trusted: \(leaf.subject)")
            print("  chain: " + chain.map { $0.subject.description }.joined(separator: " <- "))
        case .untrusted(let reason):
            throw IconError(.untrusted, "\(certificate) is not trusted for \(purpose.certificatePurpose): \(reason)")
        }
    }
}
