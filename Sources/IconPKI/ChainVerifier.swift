@_spi(FixedExpiryValidationTime) import X509
import Foundation
import IconCore

/// Decides whether a leaf certificate chains to one of a set of trusted roots and may be used
/// for a purpose.
///
/// Uses swift-certificates' `Verifier` with `RFC5280Policy` at a given time (validity, CA
/// flags, path length, name constraints, signatures) and ``PurposePolicy`` (key usages).
public struct ChainVerifier: Sendable {
    /// The trusted roots.
    public let roots: [Certificate]

    /// Trusts exactly `roots`.
    public init(roots: [Certificate]) {
        self.roots = roots
    }

    /// Trusts every certificate in the PEM file at `rootsFile`.
    ///
    /// - Throws: `.notFound`, `.io` or `.badKey` naming the file.
    public init(rootsFile: String) throws {
        self.init(roots: try PEMFile.certificates(atPath: rootsFile))
    }

    /// Checks `leaf` for `purpose` at `now`, using `intermediates` to build the chain.
    public func verify(
        leaf: Certificate, intermediates: [Certificate], purpose: CertificatePurpose, now: Date
    ) async -> ChainVerdict {
        var verifier = Verifier(rootCertificates: CertificateStore(roots)) {
            RFC5280Policy(fixedExpiryValidationTime: now)
            PurposePolicy(purpose: purpose)
        }
        let result = await verifier.validate(leaf: leaf, intermediates: CertificateStore(intermediates))
        switch result {
        case .validCertificate(let chain):
            return .trusted(chain: Array(chain))
        case .couldNotValidate(let failures):
            if roots.contains(leaf), !leaf.isCertificateAuthority {
                // RFC 5280 anchors must be CAs; say so rather than "not a CA" somewhere in a chain.
                return .untrusted(
                    reason: "\(leaf.subject) is itself in the trusted roots but is not a CA; trust the CA that issued it")
            }
            return .untrusted(reason: Self.explain(leaf: leaf, failures: failures, purpose: purpose, now: now))
        }
    }

    /// One readable line for a failed check. swift-certificates' reasons embed whole
    /// certificate descriptions, so we re-derive the common causes from the candidate chain.
    static func explain(
        leaf: Certificate, failures: [CertificateValidationResult.PolicyFailure],
        purpose: CertificatePurpose, now: Date
    ) -> String {
        if let problem = validityProblem(in: [leaf], now: now) { return problem }
        guard let failure = failures.first else {
            return "\(leaf.subject) does not chain to a trusted root (unknown issuer \(leaf.issuer))"
        }
        let chain = Array(failure.chain)
        if let problem = validityProblem(in: chain, now: now) { return problem }
        if let problem = PurposePolicy.problem(with: leaf, for: purpose) { return problem }
        let raw = failure.policyFailureReason.description
        if raw.contains("maximum path length") {
            return "path length constraint violated in the chain of \(leaf.subject)"
        }
        if raw.contains("is not marked as a CA") {
            return "a certificate in the chain of \(leaf.subject) is not a CA"
        }
        return "\(leaf.subject) rejected: " + raw.split(whereSeparator: \.isNewline).joined(separator: " ")
    }

    /// The first certificate of `chain` that is not valid at `now`, described.
    static func validityProblem(in chain: [Certificate], now: Date) -> String? {
        for certificate in chain {
            if now > certificate.notValidAfter {
                return "\(certificate.subject) expired at \(certificate.notValidAfter.formatted(.iso8601))"
            }
            if now < certificate.notValidBefore {
                return "\(certificate.subject) is not valid before \(certificate.notValidBefore.formatted(.iso8601))"
            }
        }
        return nil
    }
}
