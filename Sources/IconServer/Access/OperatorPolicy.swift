import Foundation
import IconPKI
import X509

/// Decides who may open `/ws/master`, `/exec` and `/api`.
///
/// The original lets any client certificate in; we admit a certificate marked with the operator
/// role (as `icon pki issue` makes them), or one that chains to a separate operator CA through
/// the chain the client presented or the intermediates the server knows (``ClientTrust``).
///
/// A browser's request from another site is refused before the certificate is looked at
/// (``OriginPolicy``): the operator's browser would present its certificate to any page.
public struct OperatorPolicy: Sendable {
    let trust: ClientTrust
    let origins: OriginPolicy

    init(trust: ClientTrust, origins: OriginPolicy = .sameOriginOnly) {
        self.trust = trust
        self.origins = origins
    }

    /// Whether the client whose chain (leaf first, as verified in the handshake) is `chain` is an operator.
    ///
    /// On a resumed TLS session `chain` is the leaf alone; the chain its full handshake
    /// verified is used then, and checked again.
    func admits(_ chain: [Certificate], now: Date = Date()) async -> Bool {
        guard let leaf = chain.first else { return false }
        if CertificateRole.roles(of: leaf).contains(.operator) { return true }
        let presented = chain.count > 1 ? chain : (trust.operatorChains.chain(for: leaf) ?? chain)
        return await trust.chainsToOperatorRoot(leaf, presented: presented, now: now)
    }

    /// What a refused client is, for the one-line reason: `CN=robot-17 is a device`.
    static func describe(_ certificate: Certificate?) -> String {
        guard let certificate else { return "the connection has no client certificate" }
        let subject = String(describing: certificate.subject)
        let roles = CertificateRole.roles(of: certificate)
        let names = [CertificateRole.device, .signer, .server, .provisioner].filter(roles.contains).map(\.rawValue)
        guard !names.isEmpty else { return "\(subject) is unmarked (no Iconograph role)" }
        return "\(subject) is a \(names.joined(separator: " and "))"
    }
}
