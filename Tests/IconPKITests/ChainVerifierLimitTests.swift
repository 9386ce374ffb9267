import Crypto
import Foundation
import IconCore
import IconTestSupport
import SwiftASN1
import Testing
import X509

@testable import IconPKI

/// The bounded chain search: look-alike intermediates (the real intermediate's name, an
/// attacker's key) cost nothing, and too many candidates are refused before any search.
@Suite struct ChainVerifierLimitTests {
    /// A CA certificate with `subject`, claiming `issuer`, for `key` and signed by it (so its
    /// signature does not hold under `issuer`).
    static func lookAlike(subject: DistinguishedName, issuer: DistinguishedName, key: P256.Signing.PrivateKey) throws -> Certificate {
        try Certificate(
            version: .v3, serialNumber: .init(), publicKey: .init(key.publicKey),
            notValidBefore: Date().addingTimeInterval(-3600), notValidAfter: Date().addingTimeInterval(86400),
            issuer: issuer, subject: subject, signatureAlgorithm: .ecdsaWithSHA256,
            extensions: try Certificate.Extensions {
                Critical(BasicConstraints.isCertificateAuthority(maxPathLength: nil))
                Critical(KeyUsage(keyCertSign: true, cRLSign: true))
            },
            issuerPrivateKey: .init(key))
    }

    static func reason(_ verdict: ChainVerdict) -> String? {
        if case .untrusted(let reason) = verdict { return reason }
        return nil
    }

    @Test("look-alikes sharing one key count once: the real chain is still found")
    func lookAlikesWithOneKeyCountOnce() async throws {
        try await withTemporaryDirectory { dir in
            let pki = try TestPKI(directory: dir.path)
            let key = P256.Signing.PrivateKey()
            let fakes = try (0..<60).map { _ in
                try Self.lookAlike(subject: pki.intermediate.certificate.subject, issuer: pki.root.certificate.subject, key: key)
            }
            let candidates = ChainVerifier.candidates(for: pki.signer.certificate, among: fakes + [pki.intermediate.certificate], now: Date())
            #expect(candidates.count == 2)
            #expect(candidates.contains(pki.intermediate.certificate))
            let verdict = await ChainVerifier(roots: [pki.root.certificate]).verify(
                leaf: pki.signer.certificate, intermediates: fakes + [pki.intermediate.certificate],
                purpose: .manifestSigning, now: Date())
            #expect(verdict.isTrusted, "\(Self.reason(verdict) ?? "")")
        }
    }

    @Test func certificatesOffTheLeafsIssuerPathAreNotCandidates() async throws {
        try await withTemporaryDirectory { dir in
            let pki = try TestPKI(directory: dir.path)
            let others = try (0..<20).map { index in
                try Self.lookAlike(
                    subject: try DistinguishedName { CommonName("Unrelated \(index)") }, issuer: pki.root.certificate.subject,
                    key: P256.Signing.PrivateKey())
            }
            let candidates = ChainVerifier.candidates(for: pki.signer.certificate, among: others + [pki.intermediate.certificate], now: Date())
            #expect(candidates == [pki.intermediate.certificate])
            let verdict = await ChainVerifier(roots: [pki.root.certificate]).verify(
                leaf: pki.signer.certificate, intermediates: others + [pki.intermediate.certificate],
                purpose: .manifestSigning, now: Date())
            #expect(verdict.isTrusted)
        }
    }

    @Test("more candidates than maxIntermediates are refused without a search, with a reason")
    func tooManyCandidatesAreRefused() async throws {
        try await withTemporaryDirectory { dir in
            let pki = try TestPKI(directory: dir.path)
            let fakes = try (0..<ChainVerifier.maxIntermediates).map { _ in
                try Self.lookAlike(
                    subject: pki.intermediate.certificate.subject, issuer: pki.root.certificate.subject, key: P256.Signing.PrivateKey())
            }
            let verifier = ChainVerifier(roots: [pki.root.certificate])
            let refused = await verifier.verify(
                leaf: pki.signer.certificate, intermediates: fakes + [pki.intermediate.certificate], purpose: .manifestSigning,
                now: Date())
            #expect(Self.reason(refused) == "too many candidate intermediate certificates for \(pki.signer.certificate.subject): 9, at most 8")
            // Eight (seven look-alikes and the real one) are searched, and the chain holds.
            let searched = await verifier.verify(
                leaf: pki.signer.certificate, intermediates: Array(fakes.dropFirst()) + [pki.intermediate.certificate],
                purpose: .manifestSigning, now: Date())
            #expect(searched.isTrusted, "\(Self.reason(searched) ?? "")")
        }
    }

    @Test func moreIntermediatesThanAnyChainNeedsAreRefusedUnread() async throws {
        try await withTemporaryDirectory { dir in
            let pki = try TestPKI(directory: dir.path)
            let many = Array(repeating: pki.intermediate.certificate, count: ChainVerifier.maxPresentedIntermediates + 1)
            let verdict = await ChainVerifier(roots: [pki.root.certificate]).verify(
                leaf: pki.device.certificate, intermediates: many, purpose: .clientAuth, now: Date())
            #expect(Self.reason(verdict) == "too many intermediate certificates for \(pki.device.certificate.subject): 65, at most 64")
            // The same certificate once is fine: the limit is on the count.
            let once = await ChainVerifier(roots: [pki.root.certificate]).verify(
                leaf: pki.device.certificate, intermediates: [pki.intermediate.certificate], purpose: .clientAuth, now: Date())
            #expect(once.isTrusted)
        }
    }
}
