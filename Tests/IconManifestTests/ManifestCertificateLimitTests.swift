import Crypto
import Foundation
import IconCore
import IconPKI
import IconTestSupport
import Testing
import X509

@testable import IconManifest
import SwiftASN1

/// A manifest anyone can send must not cost minutes of CPU: its chain certificates are
/// counted before any is parsed or searched.
@Suite struct ManifestCertificateLimitTests {
    struct Fields: Decodable {
        let cert: String
        let other_certs: [String]
        let sig: String
        let inner: String
    }

    static func compat() throws -> Fields {
        try JSONDecoder().decode(Fields.self, from: DemoImages.read(CompatVectors.path("images/demo/manifest.json")))
    }

    /// A look-alike of the compat intermediate: its name, another key, self-signed.
    static func lookAlikePEM() throws -> String {
        let intermediate = try #require(try PEMFile.certificates(atPath: CompatVectors.path("pki/intermediate.cert.pem")).first)
        let key = P256.Signing.PrivateKey()
        let certificate = try Certificate(
            version: .v3, serialNumber: .init(), publicKey: .init(key.publicKey),
            notValidBefore: Date().addingTimeInterval(-3600), notValidAfter: Date().addingTimeInterval(86400),
            issuer: intermediate.issuer, subject: intermediate.subject, signatureAlgorithm: .ecdsaWithSHA256,
            extensions: try Certificate.Extensions { Critical(BasicConstraints.isCertificateAuthority(maxPathLength: nil)) },
            issuerPrivateKey: .init(key))
        return try certificate.serializeAsPEM().pemString + "\n"
    }

    static func verify(_ fields: Fields, cert: String? = nil, others: [String]) async throws -> ManifestVerdict {
        let data = SignedManifest.wrap(
            certificate: cert ?? fields.cert, otherCertificates: others, signature: fields.sig, inner: fields.inner)
        return await SignedManifest.verify(
            data, verifier: try ChainVerifier(rootsFile: CompatVectors.path("pki/root.cert.pem")), now: Date())
    }

    @Test("1,500 look-alike intermediates in other_certs are refused by count, with the reason")
    func fifteenHundredLookAlikesAreRefused() async throws {
        let fields = try Self.compat()
        let fake = try Self.lookAlikePEM()
        let verdict = try await Self.verify(fields, others: fields.other_certs + Array(repeating: fake, count: 1499))
        guard case .rejected(let reason) = verdict else {
            Issue.record("accepted")
            return
        }
        #expect(reason == "\(SignedManifest.malformedPrefix): too many certificates in other_certs: 1500, at most 8")
    }

    @Test func eightChainCertificatesAreAllowedAndNineAreNot() async throws {
        let fields = try Self.compat()
        let fake = try Self.lookAlikePEM()
        // The real intermediate and seven look-alikes: verified.
        let eight = try await Self.verify(fields, others: fields.other_certs + Array(repeating: fake, count: 7))
        guard case .verified = eight else {
            Issue.record("eight chain certificates were refused: \(eight)")
            return
        }
        // Several certificates in one PEM string count each.
        let bundled = try await Self.verify(fields, others: [fields.other_certs.joined() + String(repeating: fake, count: 8)])
        guard case .rejected(let reason) = bundled else {
            Issue.record("nine bundled certificates were accepted")
            return
        }
        #expect(reason.hasSuffix("too many certificates in other_certs: 9, at most 8"), "\(reason)")
        // So do certificates after the signer's in cert.
        let inCert = try await Self.verify(fields, cert: fields.cert + String(repeating: fake, count: 9), others: fields.other_certs)
        guard case .rejected(let certReason) = inCert else {
            Issue.record("nine certificates after the signer's were accepted")
            return
        }
        #expect(certReason.hasSuffix("too many certificates in cert (after the signer's): 9, at most 8"), "\(certReason)")
    }
}
