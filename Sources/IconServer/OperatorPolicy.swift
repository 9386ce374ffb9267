import Foundation
import IconCore
import IconPKI
import X509

/// Decides who may open `/ws/master`.
///
/// The original lets any client certificate in; we admit a certificate marked with the operator
/// role (as `icon pki issue` makes them), or one that chains to a separate operator CA.
public struct OperatorPolicy: Sendable {
    let operatorCA: ChainVerifier?
    let operatorCertificates: [Certificate]

    /// - Parameter operatorCAPath: PEM file of a CA whose client certificates are operators, or `nil`.
    /// - Throws: `IconError` (`.notFound`, `.io`, `.badKey`) naming `--operator-ca-cert` and the file.
    public init(operatorCAPath: String?) throws {
        guard let operatorCAPath else {
            operatorCA = nil
            operatorCertificates = []
            return
        }
        do {
            operatorCertificates = try PEMFile.certificates(atPath: operatorCAPath)
        } catch let error as IconError {
            throw IconError(error.code, "--operator-ca-cert: \(error.message)", cause: error.cause)
        }
        operatorCA = ChainVerifier(roots: operatorCertificates)
    }

    /// Whether `certificate` (already verified by the TLS handshake) belongs to an operator.
    public func admits(_ certificate: Certificate, now: Date = Date()) async -> Bool {
        if CertificateRole.roles(of: certificate).contains(.operator) { return true }
        guard let operatorCA else { return false }
        let verdict = await operatorCA.verify(
            leaf: certificate, intermediates: operatorCertificates, purpose: .clientAuth, now: now)
        return verdict.isTrusted
    }
}
