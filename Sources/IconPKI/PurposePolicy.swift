import SwiftASN1
import X509

/// The Iconograph part of chain checking, after `RFC5280Policy`: the leaf must be an end
/// entity whose key usage and extended key usage allow `purpose`.
struct PurposePolicy: VerifierPolicy {
    let purpose: CertificatePurpose

    /// We enforce extended key usage on the leaf, so a critical EKU there is understood.
    let verifyingCriticalExtensions: [ASN1ObjectIdentifier] = [.X509ExtensionID.extendedKeyUsage]

    func chainMeetsPolicyRequirements(chain: UnverifiedCertificateChain) -> PolicyEvaluationResult {
        guard let problem = Self.problem(with: chain.leaf, for: purpose) else { return .meetsPolicy }
        return .failsToMeetPolicy(reason: "\(problem)")
    }

    /// Why `leaf` may not be used for `purpose`, or `nil` when it may.
    static func problem(with leaf: Certificate, for purpose: CertificatePurpose) -> String? {
        let name = leaf.subject.description
        if leaf.isCertificateAuthority {
            return "\(name) is a CA certificate, not an end-entity certificate for \(purpose)"
        }
        if leaf.hasBrokenExtendedKeyUsage {
            return "\(name) has an extended key usage extension that does not parse"
        }
        let eku = leaf.extendedKeyUsageOIDs
        let usage = leaf.keyUsageIfPresent
        switch purpose {
        case .manifestSigning:
            if let usage, !usage.digitalSignature {
                return "\(name) key usage lacks digitalSignature, needed for manifest signing"
            }
            let allowed: Set<ASN1ObjectIdentifier> = [IconOID.codeSigning, IconOID.anyExtendedKeyUsage, IconOID.signerRole]
            if let eku, eku.isDisjoint(with: allowed) {
                return "\(name) extended key usage allows neither codeSigning nor the Iconograph signer role"
            }
        case .serverAuth:
            if let usage, !(usage.digitalSignature || usage.keyEncipherment || usage.keyAgreement) {
                return "\(name) key usage does not allow TLS server authentication"
            }
            if let eku, eku.isDisjoint(with: [IconOID.serverAuth, IconOID.anyExtendedKeyUsage]) {
                return "\(name) extended key usage lacks serverAuth"
            }
        case .clientAuth, .operatorClient:
            if let usage, !(usage.digitalSignature || usage.keyAgreement) {
                return "\(name) key usage does not allow TLS client authentication"
            }
            if let eku, eku.isDisjoint(with: [IconOID.clientAuth, IconOID.anyExtendedKeyUsage]) {
                return "\(name) extended key usage lacks clientAuth"
            }
            // The operator role grants administration: it must be stated explicitly.
            if purpose == .operatorClient, !(eku ?? []).contains(IconOID.operatorRole) {
                return "\(name) lacks the Iconograph operator role"
            }
        }
        return nil
    }
}
