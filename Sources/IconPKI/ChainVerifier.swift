@_spi(FixedExpiryValidationTime) public import X509
public import Foundation
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

    /// The most intermediates one check hands to the chain search (after
    /// ``candidates(for:among:now:)`` keeps only those that can be in the leaf's chain). Real
    /// chains have one or two; anyone who can send a manifest or open a TLS connection
    /// chooses what arrives, and each extra look-alike multiplies the search.
    public static let maxIntermediates = 8

    /// The most intermediates one check looks at at all: more are refused before any work
    /// (sorting out candidates costs time in their number, too).
    public static let maxPresentedIntermediates = 64

    /// Checks `leaf` for `purpose` at `now`, using `intermediates` to build the chain.
    ///
    /// The search is bounded: of `intermediates`, only the certificates whose subject is on the
    /// leaf's issuer path are considered, one per subject and key (``candidates(for:among:now:)``),
    /// and a leaf with more than ``maxIntermediates`` of those (or more than
    /// ``maxPresentedIntermediates`` given at all) is refused without a search.
    public func verify(
        leaf: Certificate, intermediates: [Certificate], purpose: CertificatePurpose, now: Date
    ) async -> ChainVerdict {
        guard intermediates.count <= Self.maxPresentedIntermediates else {
            return .untrusted(
                reason: "too many intermediate certificates for \(leaf.subject): \(intermediates.count), "
                    + "at most \(Self.maxPresentedIntermediates)")
        }
        let candidates = Self.candidates(for: leaf, among: intermediates, now: now)
        guard candidates.count <= Self.maxIntermediates else {
            return .untrusted(
                reason: "too many candidate intermediate certificates for \(leaf.subject): \(candidates.count), "
                    + "at most \(Self.maxIntermediates)")
        }
        var verifier = Verifier(rootCertificates: CertificateStore(roots)) {
            RFC5280Policy(fixedExpiryValidationTime: now)
            PurposePolicy(purpose: purpose)
        }
        let result = await verifier.validate(leaf: leaf, intermediates: CertificateStore(candidates))
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

    /// The intermediates that can appear in `leaf`'s chain, in their given order: those whose
    /// subject is the leaf's issuer or, transitively, the issuer of such a certificate (names
    /// only, no signature is checked here), and of several with the same subject and public
    /// key only the best (valid at `now`, then the latest expiry).
    ///
    /// That last rule is what bounds swift-certificates' depth-first search: a certificate is
    /// signed by one key, so at most one candidate per subject can extend a chain, and the
    /// search follows a path instead of trying every ordering of look-alikes that share a
    /// name and a key (n! chains for n of them).
    static func candidates(for leaf: Certificate, among intermediates: [Certificate], now: Date) -> [Certificate] {
        var names: Set<DistinguishedName> = [leaf.issuer]
        var pending = intermediates
        var reachable: [Certificate] = []
        // Each round adds the certificates issued to a name found in the previous rounds.
        while true {
            let (found, rest) = pending.partitioned { names.contains($0.subject) }
            if found.isEmpty { break }
            reachable += found
            for certificate in found { names.insert(certificate.issuer) }
            pending = rest
        }
        var best: [SubjectAndKey: Certificate] = [:]
        for certificate in reachable {
            let key = SubjectAndKey(subject: certificate.subject, key: certificate.publicKey)
            if let kept = best[key], !isBetter(certificate, than: kept, now: now) { continue }
            best[key] = certificate
        }
        var seen: Set<SubjectAndKey> = []
        return intermediates.filter { certificate in
            let key = SubjectAndKey(subject: certificate.subject, key: certificate.publicKey)
            return best[key] == certificate && seen.insert(key).inserted
        }
    }

    struct SubjectAndKey: Hashable {
        var subject: DistinguishedName
        var key: Certificate.PublicKey
    }

    /// Whether `candidate` is the better of two certificates for one subject and key.
    static func isBetter(_ candidate: Certificate, than kept: Certificate, now: Date) -> Bool {
        func valid(_ certificate: Certificate) -> Bool {
            certificate.notValidBefore <= now && now <= certificate.notValidAfter
        }
        if valid(candidate) != valid(kept) { return valid(candidate) }
        return candidate.notValidAfter > kept.notValidAfter
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
        if let problem = PurposePolicy.problem(with: leaf, for: purpose) { return problem.description }
        if let problem = constraintProblem(in: chain, leaf: leaf) { return problem }
        let raw = failure.policyFailureReason.description
        return "\(leaf.subject) rejected: " + raw.split(whereSeparator: \.isNewline).joined(separator: " ")
    }

    /// A CA constraint `chain` (leaf first, root last) breaks, described: a path length
    /// longer than an issuer allows, or an issuer that is not a CA.
    static func constraintProblem(in chain: [Certificate], leaf: Certificate) -> String? {
        for (index, issuer) in chain.enumerated().dropFirst() {
            // The intermediates between this issuer and the leaf.
            if case .isCertificateAuthority(let maxPathLength?)? = try? issuer.extensions.basicConstraints,
                index - 1 > maxPathLength
            {
                return "path length constraint violated in the chain of \(leaf.subject)"
            }
        }
        for issuer in chain.dropFirst() {
            guard case .isCertificateAuthority? = try? issuer.extensions.basicConstraints else {
                return "a certificate in the chain of \(leaf.subject) is not a CA"
            }
        }
        return nil
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

extension Array {
    /// The elements that satisfy `predicate` and the others, each in order.
    fileprivate func partitioned(_ predicate: (Element) -> Bool) -> (matching: [Element], rest: [Element]) {
        var matching: [Element] = []
        var rest: [Element] = []
        for element in self {
            if predicate(element) { matching.append(element) } else { rest.append(element) }
        }
        return (matching, rest)
    }
}
