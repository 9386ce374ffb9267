import Crypto
import Foundation
import IconCore
import IconTestSupport
import SwiftASN1
import Testing

@testable import IconPKI
import X509

@Suite struct ChainVerifierTests {
    static func compat(_ name: String) throws -> Certificate {
        try #require(try PEMFile.certificates(atPath: CompatVectors.path("pki/\(name).cert.pem")).first)
    }

    static func reason(_ verdict: ChainVerdict) -> String? {
        if case .untrusted(let reason) = verdict { return reason }
        return nil
    }

    @Test func compatSigningCertViaIntermediateIsTrusted() async throws {
        let verifier = ChainVerifier(roots: [try Self.compat("root")])
        let verdict = await verifier.verify(
            leaf: try Self.compat("signing"), intermediates: [try Self.compat("intermediate")],
            purpose: .manifestSigning, now: Date())
        guard case .trusted(let chain) = verdict else {
            Issue.record("untrusted: \(Self.reason(verdict) ?? "")")
            return
        }
        #expect(chain.count == 3)
        #expect(chain.last == (try Self.compat("root")))
    }

    @Test func compatSigningCertIsUntrustedUnderAnotherRoot() async throws {
        let verifier = ChainVerifier(roots: [try Self.compat("other-root")])
        let verdict = await verifier.verify(
            leaf: try Self.compat("signing"), intermediates: [try Self.compat("intermediate")],
            purpose: .manifestSigning, now: Date())
        let reason = try #require(Self.reason(verdict))
        #expect(reason.contains("trusted root"))
        #expect(!reason.contains("\n"))
    }

    @Test func compatRSASigningCertDirectlyUnderRootIsTrusted() async throws {
        let verifier = ChainVerifier(roots: [try Self.compat("root")])
        let verdict = await verifier.verify(
            leaf: try Self.compat("rsa-signing"), intermediates: [], purpose: .manifestSigning, now: Date())
        #expect(verdict.isTrusted, "\(Self.reason(verdict) ?? "")")
    }

    @Test func missingIntermediateIsUntrusted() async throws {
        let verifier = ChainVerifier(roots: [try Self.compat("root")])
        let verdict = await verifier.verify(
            leaf: try Self.compat("signing"), intermediates: [], purpose: .manifestSigning, now: Date())
        let reason = try #require(Self.reason(verdict))
        #expect(reason.contains("unknown issuer"))
    }

    @Test func compatChainIsUntrustedAfterItExpires() async throws {
        let verifier = ChainVerifier(roots: [try Self.compat("root")])
        let verdict = await verifier.verify(
            leaf: try Self.compat("signing"), intermediates: [try Self.compat("intermediate")],
            purpose: .manifestSigning, now: Date(timeIntervalSince1970: 7_258_118_400))  // 2200-01-01
        #expect(try #require(Self.reason(verdict)).contains("expired"))
    }

    @Test func expiredLeafIsUntrusted() async throws {
        try await withTemporaryDirectory { dir in
            let pki = try TestPKI(directory: dir.path)
            let leaf = try pki.issueLeaf(
                name: "Old Signer", file: "old", usages: [.codeSigning],
                notValidBefore: Date().addingTimeInterval(-2 * 86400), notValidAfter: Date().addingTimeInterval(-86400))
            let verdict = await ChainVerifier(roots: [pki.root.certificate]).verify(
                leaf: leaf.certificate, intermediates: [pki.intermediate.certificate], purpose: .manifestSigning, now: Date())
            let reason = try #require(Self.reason(verdict))
            #expect(reason.contains("expired"))
            #expect(reason.contains("Old Signer"))
        }
    }

    @Test func aCACertificateIsNotASigner() async throws {
        let verifier = ChainVerifier(roots: [try Self.compat("root")])
        let verdict = await verifier.verify(
            leaf: try Self.compat("intermediate"), intermediates: [], purpose: .manifestSigning, now: Date())
        #expect(try #require(Self.reason(verdict)).contains("CA certificate"))
        let rootAsLeaf = await verifier.verify(
            leaf: try Self.compat("root"), intermediates: [], purpose: .manifestSigning, now: Date())
        #expect(!rootAsLeaf.isTrusted)
    }

    @Test func pathLengthViolationIsUntrusted() async throws {
        try await withTemporaryDirectory { dir in
            let pki = try TestPKI(directory: dir.path)
            // The intermediate has pathlen 0, so it may not issue another CA.
            let subCAKey = P256.Signing.PrivateKey()
            let subCA = try Self.certificate(
                subject: "Sub CA", key: subCAKey.publicKey, issuer: pki.intermediate.certificate,
                issuerKey: pki.intermediate.privateKey, isCA: true)
            let leaf = try Self.certificate(
                subject: "Deep Signer", key: P256.Signing.PrivateKey().publicKey, issuer: subCA,
                issuerKey: subCAKey, isCA: false)
            let verdict = await ChainVerifier(roots: [pki.root.certificate]).verify(
                leaf: leaf, intermediates: [pki.intermediate.certificate, subCA], purpose: .manifestSigning, now: Date())
            let reason = try #require(Self.reason(verdict))
            #expect(reason.contains("path length"))
        }
    }

    @Test func rootsFileWithTwoRoots() async throws {
        try await withTemporaryDirectory { dir in
            let path = dir.join("roots.pem")
            let pem = try String(contentsOfFile: CompatVectors.path("pki/other-root.cert.pem"), encoding: .utf8)
                + String(contentsOfFile: CompatVectors.path("pki/root.cert.pem"), encoding: .utf8)
            try pem.write(toFile: path, atomically: true, encoding: .utf8)
            let verifier = try ChainVerifier(rootsFile: path)
            #expect(verifier.roots.count == 2)
            let verdict = await verifier.verify(
                leaf: try Self.compat("signing"), intermediates: [try Self.compat("intermediate")],
                purpose: .manifestSigning, now: Date())
            #expect(verdict.isTrusted)
        }
    }

    @Test func aLeafGivenAsTheTrustAnchorIsRefusedWithAClearReason() async throws {
        // The original README passes the signing certificate itself as --ca-cert; RFC 5280
        // anchors must be CAs, so we refuse and point at the fix.
        let signing = try Self.compat("signing")
        let verdict = await ChainVerifier(roots: [signing]).verify(
            leaf: signing, intermediates: [], purpose: .manifestSigning, now: Date())
        let reason = try #require(Self.reason(verdict))
        #expect(reason.contains("is itself in the trusted roots but is not a CA"))
    }

    @Test func reasonsAreSingleReadableLines() async throws {
        try await withTemporaryDirectory { dir in
            let pki = try TestPKI(directory: dir.path)
            let verifier = ChainVerifier(roots: [pki.root.certificate])
            let cases: [(Certificate, [Certificate], CertificatePurpose)] = [
                (pki.server.certificate, [pki.intermediate.certificate], .clientAuth),
                (pki.device.certificate, [], .clientAuth),
                (pki.intermediate.certificate, [], .serverAuth),
            ]
            for (leaf, intermediates, purpose) in cases {
                let verdict = await verifier.verify(leaf: leaf, intermediates: intermediates, purpose: purpose, now: Date())
                let reason = try #require(Self.reason(verdict))
                #expect(!reason.contains("\n"))
                #expect(!reason.contains("RFC5280Policy"))
                #expect(reason.contains(leaf.subject.description), "\(reason)")
            }
        }
    }

    @Test func rootsFileErrorsNameTheFile() throws {
        let error = try #require(throws: IconError.self) { try ChainVerifier(rootsFile: "/nonexistent/roots.pem") }
        #expect(error.code == .notFound)
        #expect(error.message.contains("/nonexistent/roots.pem"))
    }

    @Test func purposesFollowExtendedKeyUsage() async throws {
        try await withTemporaryDirectory { dir in
            let pki = try TestPKI(directory: dir.path)
            let verifier = ChainVerifier(roots: [pki.root.certificate])
            let intermediates = [pki.intermediate.certificate]
            func trusted(_ leaf: TestPKI.Identity, _ purpose: CertificatePurpose) async -> Bool {
                await verifier.verify(leaf: leaf.certificate, intermediates: intermediates, purpose: purpose, now: Date()).isTrusted
            }
            #expect(await trusted(pki.server, .serverAuth))
            #expect(!(await trusted(pki.server, .clientAuth)))
            #expect(!(await trusted(pki.server, .manifestSigning)))
            #expect(await trusted(pki.device, .clientAuth))
            #expect(!(await trusted(pki.device, .serverAuth)))
            #expect(!(await trusted(pki.device, .operatorClient)))
            #expect(await trusted(pki.signer, .manifestSigning))
            #expect(!(await trusted(pki.signer, .clientAuth)))
        }
    }

    /// A certificate that states no use (no key usage, no extended key usage) never signs
    /// manifests; the original's signer (key usage digitalSignature only) still does.
    @Test func aSignerWithoutAnyUsageIsRefused() async throws {
        try await withTemporaryDirectory { dir in
            let pki = try TestPKI(directory: dir.path)
            let verifier = ChainVerifier(roots: [pki.root.certificate])
            let key = P256.Signing.PrivateKey()
            for extensions in [try Certificate.Extensions {}, try Certificate.Extensions { Critical(BasicConstraints.notCertificateAuthority) }] {
                let leaf = try Certificate(
                    version: .v3, serialNumber: .init(), publicKey: .init(key.publicKey),
                    notValidBefore: Date().addingTimeInterval(-3600), notValidAfter: Date().addingTimeInterval(86400),
                    issuer: pki.intermediate.certificate.subject, subject: try DistinguishedName { CommonName("bare signer") },
                    signatureAlgorithm: .ecdsaWithSHA256, extensions: extensions,
                    issuerPrivateKey: .init(pki.intermediate.privateKey))
                let verdict = await verifier.verify(leaf: leaf, intermediates: [pki.intermediate.certificate], purpose: .manifestSigning, now: Date())
                #expect(Self.reason(verdict)?.contains("CN=bare signer has neither key usage nor extended key usage") == true, "\(verdict)")
                // As a TLS client nothing changes: no usage extension means any use there.
                #expect(await verifier.verify(leaf: leaf, intermediates: [pki.intermediate.certificate], purpose: .clientAuth, now: Date()).isTrusted)
            }
            let compat = ChainVerifier(roots: [try Self.compat("root")])
            #expect(
                await compat.verify(
                    leaf: try Self.compat("signing"), intermediates: [try Self.compat("intermediate")], purpose: .manifestSigning, now: Date()
                ).isTrusted)
        }
    }

    /// A certificate issued by `issuer`, as a CA without path length limit or as an end entity.
    static func certificate(
        subject: String, key: P256.Signing.PublicKey, issuer: Certificate, issuerKey: P256.Signing.PrivateKey, isCA: Bool
    ) throws -> Certificate {
        let name = try DistinguishedName { CommonName(subject) }
        let extensions = try Certificate.Extensions {
            if isCA {
                Critical(BasicConstraints.isCertificateAuthority(maxPathLength: nil))
                Critical(KeyUsage(keyCertSign: true, cRLSign: true))
            } else {
                Critical(BasicConstraints.notCertificateAuthority)
                Critical(KeyUsage(digitalSignature: true))
            }
        }
        return try Certificate(
            version: .v3, serialNumber: .init(), publicKey: .init(key),
            notValidBefore: Date().addingTimeInterval(-3600), notValidAfter: Date().addingTimeInterval(86400),
            issuer: issuer.subject, subject: name, signatureAlgorithm: .ecdsaWithSHA256,
            extensions: extensions, issuerPrivateKey: .init(issuerKey))
    }
}
