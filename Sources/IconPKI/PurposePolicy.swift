import SwiftASN1
import X509

/// The Iconograph part of chain checking, after `RFC5280Policy`: the leaf must be an end
/// entity whose key usage and extended key usage allow `purpose`, and no certificate of the
/// chain may have an RSA key under ``minimumRSABits``.
struct PurposePolicy: VerifierPolicy {
    /// The smallest RSA modulus trusted anywhere in a chain, in bits.
    static let minimumRSABits = 2048

    let purpose: CertificatePurpose

    /// We enforce extended key usage on the leaf, so a critical EKU there is understood.
    let verifyingCriticalExtensions: [ASN1ObjectIdentifier] = [.X509ExtensionID.extendedKeyUsage]

    func chainMeetsPolicyRequirements(chain: UnverifiedCertificateChain) -> PolicyEvaluationResult {
        for certificate in chain.dropFirst() {
            if let problem = Self.keyProblem(with: certificate) { return .failsToMeetPolicy(reason: problem) }
        }
        guard let problem = Self.problem(with: chain.leaf, for: purpose) else { return .meetsPolicy }
        return .failsToMeetPolicy(reason: problem.description)
    }

    /// Why the key of `certificate` is too weak to trust, or `nil`.
    static func keyProblem(with certificate: Certificate) -> String? {
        guard case .rsa(let bits) = PublicKeyKind(certificate.publicKey), bits < minimumRSABits else { return nil }
        return "\(certificate.subject) has an RSA key of \(bits) bits; at least \(minimumRSABits) are required"
    }

    /// Why `leaf` may not be used for `purpose`, or `nil` when it may.
    static func problem(with leaf: Certificate, for purpose: CertificatePurpose) -> PurposeProblem? {
        let name = leaf.subject.description
        if leaf.isCertificateAuthority {
            return PurposeProblem(.certificateAuthority, "\(name) is a CA certificate, not an end-entity certificate for \(purpose)")
        }
        if leaf.hasBrokenExtendedKeyUsage {
            return PurposeProblem(.brokenExtendedKeyUsage, "\(name) has an extended key usage extension that does not parse")
        }
        if let problem = keyProblem(with: leaf) { return PurposeProblem(.weakKey, problem) }
        let eku = leaf.extendedKeyUsageOIDs
        let usage = leaf.keyUsageIfPresent
        switch purpose {
        case .manifestSigning:
            // A certificate that states no use at all was never meant to sign (the original's
            // signer has key usage digitalSignature and no extended key usage).
            if usage == nil, eku == nil {
                return PurposeProblem(.missingDigitalSignature, "\(name) has neither key usage nor extended key usage; a manifest signer needs digitalSignature")
            }
            if let usage, !usage.digitalSignature {
                return PurposeProblem(.missingDigitalSignature, "\(name) key usage lacks digitalSignature, needed for manifest signing")
            }
            let allowed: Set<ASN1ObjectIdentifier> = [IconOID.codeSigning, IconOID.anyExtendedKeyUsage, IconOID.signerRole]
            if let eku, eku.isDisjoint(with: allowed) {
                return PurposeProblem(.extendedKeyUsage, "\(name) extended key usage allows neither codeSigning nor the Iconograph signer role")
            }
        case .serverAuth:
            if let usage, !(usage.digitalSignature || usage.keyEncipherment || usage.keyAgreement) {
                return PurposeProblem(.keyUsage, "\(name) key usage does not allow TLS server authentication")
            }
            if let eku, eku.isDisjoint(with: [IconOID.serverAuth, IconOID.anyExtendedKeyUsage]) {
                return PurposeProblem(.extendedKeyUsage, "\(name) extended key usage lacks serverAuth")
            }
        case .clientAuth, .operatorClient, .provisionerClient:
            if let usage, !(usage.digitalSignature || usage.keyAgreement) {
                return PurposeProblem(.keyUsage, "\(name) key usage does not allow TLS client authentication")
            }
            if let eku, eku.isDisjoint(with: [IconOID.clientAuth, IconOID.anyExtendedKeyUsage]) {
                return PurposeProblem(.extendedKeyUsage, "\(name) extended key usage lacks clientAuth")
            }
            // The operator role grants administration: it must be stated explicitly.
            if purpose == .operatorClient, !(eku ?? []).contains(IconOID.operatorRole) {
                return PurposeProblem(.missingRole, "\(name) lacks the Iconograph operator role")
            }
            if purpose == .provisionerClient, !(eku ?? []).contains(IconOID.provisionerRole) {
                return PurposeProblem(.missingRole, "\(name) lacks the Iconograph provisioner role")
            }
        }
        return nil
    }
}

/// Why a certificate may not be the leaf for a purpose: what kind of rule it breaks, and the
/// sentence that says so.
public struct PurposeProblem: Sendable, Equatable, CustomStringConvertible {
    /// The rules a leaf can break.
    public enum Kind: Sendable, Equatable {
        /// It is a CA certificate.
        case certificateAuthority
        /// Its extended key usage extension does not parse.
        case brokenExtendedKeyUsage
        /// Its key is too weak.
        case weakKey
        /// A manifest signer whose key usage (or lack of any) does not give digitalSignature.
        case missingDigitalSignature
        /// Its key usage forbids the purpose.
        case keyUsage
        /// Its extended key usage forbids the purpose.
        case extendedKeyUsage
        /// It lacks the Iconograph role the purpose needs.
        case missingRole
    }

    public var kind: Kind
    public var description: String

    init(_ kind: Kind, _ description: String) {
        self.kind = kind
        self.description = description
    }
}
