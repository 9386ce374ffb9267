public import Foundation
import IconCore
import IconPKI
import X509

/// Checks a signing identity the way a machine checks the manifests it signs, before anything
/// is hashed or written, and says which flag fixes a refusal.
///
/// The check itself is ``ChainVerifier`` for manifest signing, the machines' rule, so it is
/// never stricter or laxer than they are; only the explanation of a refusal is derived here.
public enum SignerCheck {
    /// Passes when machines trusting `trust` accept manifests signed by `signer` at `now`.
    ///
    /// - Throws: `IconError.Code.untrusted` with one line naming the file at fault and the
    ///   flag that fixes it: the signer's role, an expired certificate, a missing
    ///   intermediate (`--other-cert`) or a chain to another root (`--ca-cert`).
    public static func check(_ signer: ManifestSigner, against trust: SignerTrust, now: Date) async throws {
        let verdict = await trust.verifier.verify(
            leaf: signer.certificate, intermediates: signer.chain.map(\.certificate), purpose: .manifestSigning, now: now)
        guard case .untrusted(let reason) = verdict else { return }
        throw IconError(.untrusted, explain(signer, trust: trust, now: now, verifierReason: reason))
    }

    /// One line on why machines refuse `signer`, naming the file and the fixing flag.
    static func explain(_ signer: ManifestSigner, trust: SignerTrust, now: Date, verifierReason: String) -> String {
        let leaf = signer.certificate
        let cert = "--cert \(signer.certPath)"
        if let problem = CertificatePurpose.manifestSigning.problem(with: leaf) {
            return "\(cert) is \(kind(of: leaf)) (\(leaf.subject)), not a manifest signer (\(lack(problem))), "
                + "so machines would refuse the manifest; a signer certificate comes from "
                + "`icon pki issue --role signer`: pass it with --cert and its key with --key"
        }
        if let problem = validity(of: leaf, now: now) {
            return "\(cert): the signer certificate \(leaf.subject) \(problem), so machines would refuse the manifest; "
                + "issue a new one with `icon pki issue --role signer`"
        }
        let roots = trust.verifier.roots
        let rootsFile = trust.rootsPath
        var current = leaf
        var source = signer.certPath
        for _ in 0...signer.chain.count {
            if let root = roots.first(where: { $0.subject == current.issuer }) {
                if let problem = validity(of: root, now: now) {
                    return "the root \(root.subject) in \(rootsFile) \(problem); machines trusting it refuse every manifest"
                }
                if !root.publicKey.isValidSignature(current.signature, for: current) {
                    return "\(source): \(current.subject) names \(current.issuer) as its issuer, but the root of that "
                        + "name in \(rootsFile) did not sign it (another CA of the same name); "
                        + "pass --ca-cert with the root the machines trust"
                }
                break
            }
            if current.issuer == current.subject {
                return "\(source): the chain of the signer ends at the root \(current.subject), which is not in "
                    + "\(rootsFile); pass --ca-cert with the root the machines trust"
            }
            guard let next = signer.chain.first(where: { $0.certificate.subject == current.issuer }) else {
                if current == leaf {
                    return "the chain of \(cert) is incomplete: its issuer \(leaf.issuer) is not among the certificates "
                        + "of --cert and --other-cert and is not a root in \(rootsFile); "
                        + "add --other-cert \(intermediateHint(for: leaf, trust: trust, certPath: signer.certPath))"
                }
                return "\(source): the chain of the signer ends at \(current.subject), issued by \(current.issuer), "
                    + "which is not a root in \(rootsFile); pass --ca-cert with the root the machines trust"
            }
            if let problem = validity(of: next.certificate, now: now) {
                return "\(next.source): the chain certificate \(next.certificate.subject) \(problem), "
                    + "so machines would refuse the manifest; pass a valid intermediate with --other-cert"
            }
            current = next.certificate
            source = next.source
        }
        return "\(cert) is not trusted for manifest signing by the roots in \(rootsFile): \(verifierReason)"
    }

    /// The intermediate to add: a file near the CA or the signer whose certificate is the
    /// missing issuer, else the `icon pki init` layout beside the roots.
    static func intermediateHint(for leaf: Certificate, trust: SignerTrust, certPath: String) -> String {
        let candidates = trust.intermediateCandidates(certPath: certPath)
        for path in candidates {
            if let certificates = try? PEMFile.certificates(atPath: path),
                certificates.contains(where: { $0.subject == leaf.issuer })
            {
                return path
            }
        }
        if trust.foundByLookup {
            return SignerTrust.sibling(SignerTrust.intermediateFileName, of: trust.rootsPath)
        }
        return "<ca-dir>/\(SignerTrust.intermediateFileName) (the CA certificate that issued it)"
    }

    /// "a device certificate", "a CA certificate", ... for the role message.
    static func kind(of certificate: Certificate) -> String {
        if case .isCertificateAuthority? = try? certificate.extensions.basicConstraints {
            return "a CA certificate"
        }
        let roles = CertificateRole.roles(of: certificate)
        for role in [CertificateRole.device, .operator, .server] where roles.contains(role) {
            return role == .operator ? "an operator certificate" : "a \(role.rawValue) certificate"
        }
        return "a certificate"
    }

    /// What the certificate lacks, from the kind of ``PurposeProblem`` it has.
    static func lack(_ problem: PurposeProblem) -> String {
        switch problem.kind {
        case .certificateAuthority: "a CA cannot sign manifests"
        case .missingDigitalSignature: "its key usage lacks digitalSignature"
        case .brokenExtendedKeyUsage: "its extended key usage does not parse"
        case .weakKey, .keyUsage, .extendedKeyUsage, .missingRole: "it has neither codeSigning nor the Iconograph signer role"
        }
    }

    /// "expired at ..." or "is not valid before ...", nil when valid at `now`.
    static func validity(of certificate: Certificate, now: Date) -> String? {
        if now > certificate.notValidAfter { return "expired at \(certificate.notValidAfter.formatted(.iso8601))" }
        if now < certificate.notValidBefore {
            return "is not valid before \(certificate.notValidBefore.formatted(.iso8601))"
        }
        return nil
    }
}
