import Foundation
import IconCore
import IconTestSupport
import Testing

@testable import IconPKI
import X509
import SwiftASN1

@Suite struct CSRSigningTests {
    static func openSSLRequest(in dir: TemporaryDirectory, keyArguments: [String]) throws -> CertificateSigningRequest {
        try OpenSSLTool.mustRun(
            ["req", "-new", "-newkey"] + keyArguments + ["-nodes", "-keyout", "req.key.pem", "-subj", "/CN=requested-name", "-out", "req.pem"],
            in: dir.path)
        return try CertificateSigningRequest(pemEncoded: String(contentsOfFile: dir.join("req.pem"), encoding: .utf8))
    }

    @Test(arguments: [["ec", "-pkeyopt", "ec_paramgen_curve:P-256"], ["rsa:2048"]])
    func signsAnOpenSSLRequest(keyArguments: [String]) async throws {
        try await withTemporaryDirectory { dir in
            let ca = try CertificateAuthority.create(in: dir.join("ca"), commonName: "Fleet", organization: "Org", now: Date())
            let csr = try Self.openSSLRequest(in: dir, keyArguments: keyArguments)
            let subject = try DistinguishedName { CommonName("device-42") }
            let certificate = try ca.sign(csr: csr, role: .device, subject: subject, validityDays: 90, now: Date())
            #expect(certificate.subject == subject)
            #expect(certificate.publicKey == csr.publicKey)
            #expect(CertificateRole.roles(of: certificate) == [.device])
            let verdict = await ChainVerifier(roots: [ca.root]).verify(
                leaf: certificate, intermediates: [ca.intermediate], purpose: .clientAuth, now: Date())
            #expect(verdict.isTrusted, "\(verdict)")

            try certificate.serializeAsPEM().pemString.write(toFile: dir.join("signed.pem"), atomically: true, encoding: .utf8)
            let check = try OpenSSLTool.run(
                ["verify", "-CAfile", ca.rootCertificatePath, "-untrusted", ca.intermediateCertificatePath, "-purpose", "sslclient", "signed.pem"],
                in: dir.path)
            #expect(check.status == 0, "\(check.output)")
            // The key openssl generated matches the certificate.
            #expect(try PEMFile.privateKey(atPath: dir.join("req.key.pem")).publicKey == certificate.publicKey)
        }
    }

    @Test func refusesARequestWithABrokenSignature() async throws {
        try await withTemporaryDirectory { dir in
            let ca = try CertificateAuthority.create(in: dir.join("ca"), commonName: "Fleet", organization: "Org", now: Date())
            let csr = try Self.openSSLRequest(in: dir, keyArguments: ["ec", "-pkeyopt", "ec_paramgen_curve:P-256"])
            var der = try csr.serializeAsPEM().derBytes
            // The last byte belongs to the ECDSA signature's s value: still valid DER, wrong signature.
            der[der.count - 1] ^= 0x01
            let broken = try CertificateSigningRequest(derEncoded: der)
            let error = try #require(throws: IconError.self) {
                try ca.sign(csr: broken, role: .device, subject: try DistinguishedName { CommonName("x") }, validityDays: 1, now: Date())
            }
            #expect(error.code == .badSignature)
        }
    }
}
