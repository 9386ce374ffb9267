import Foundation
import IconCore
import IconTestSupport
import Testing
import X509

@testable import IconPKI

/// The X.509 v2 CRL this package encodes with swift-asn1: it parses back, verifies against its
/// issuer only, lists exactly the revoked serials, and OpenSSL agrees.
@Suite struct RevocationListTests {
    static func make(_ dir: TemporaryDirectory, number: Int = 7, revoking count: Int = 1) throws
        -> (CertificateAuthority, [IssuedIdentity], RevocationList)
    {
        let ca = try CertificateAuthority.create(in: dir.join("ca"), commonName: "Fleet", organization: "Org", now: Date())
        let leaves = try (0..<max(count, 2)).map {
            try ca.issue(role: .signer, commonName: "Signer \($0)", validityDays: 30, now: Date())
        }
        let key = try SigningKey(path: dir.join("ca/intermediate.key.pem"))
        let now = Date(timeIntervalSince1970: 1_796_000_000)
        let list = try RevocationList.make(
            issuer: ca.intermediate, key: key, number: number,
            entries: leaves.prefix(count).map { RevocationList.Entry(serial: $0.certificate.serialNumber, revoked: now) },
            thisUpdate: now, nextUpdate: now.addingTimeInterval(30 * 86_400))
        return (ca, leaves, list)
    }

    @Test func aListParsesBackAndRevokesExactlyItsSerials() async throws {
        try await withTemporaryDirectory { dir in
            let (ca, leaves, list) = try Self.make(dir)
            let again = try RevocationList(pemEncoded: list.pemString, source: "crl.pem")
            #expect(again == list)
            #expect(again.number == 7)
            #expect(again.issuer == ca.intermediate.subject)
            #expect(again.thisUpdate == Date(timeIntervalSince1970: 1_796_000_000))
            #expect(again.nextUpdate == Date(timeIntervalSince1970: 1_796_000_000 + 30 * 86_400))
            #expect(again.revokes(leaves[0].certificate))
            #expect(!again.revokes(leaves[1].certificate))
            #expect(again.isSigned(by: ca.intermediate))
            #expect(!again.isSigned(by: ca.root))
        }
    }

    @Test func anEmptyListAndOneFarInTheFutureEncodeToo() async throws {
        try await withTemporaryDirectory { dir in
            let ca = try CertificateAuthority.create(in: dir.join("ca"), commonName: "Fleet", organization: "Org", now: Date())
            let key = try SigningKey(path: dir.join("ca/intermediate.key.pem"))
            let later = Date(timeIntervalSince1970: 2_600_000_000)  // 2052: GeneralizedTime
            let list = try RevocationList.make(issuer: ca.intermediate, key: key, number: 1, entries: [], thisUpdate: later, nextUpdate: nil)
            let again = try RevocationList(derEncoded: list.derBytes)
            #expect(again.entries.isEmpty && again.nextUpdate == nil && again.thisUpdate == later)
            #expect(again.isSigned(by: ca.intermediate))
        }
    }

    @Test func aChangedSerialBreaksTheSignature() async throws {
        try await withTemporaryDirectory { dir in
            let (ca, leaves, list) = try Self.make(dir)
            var bytes = list.derBytes
            let serial = Array(leaves[0].certificate.serialNumber.bytes)
            let range = try #require(bytes.firstRange(of: serial))
            bytes[range.upperBound - 1] ^= 0x01
            let spoiled = try RevocationList(derEncoded: bytes)
            #expect(!spoiled.revokes(leaves[0].certificate))
            #expect(!spoiled.isSigned(by: ca.intermediate))
        }
    }

    @Test(.requiresExecutable("openssl", package: "openssl"))
    func opensslVerifiesTheListAndReadsItsNumberAndSerials() async throws {
        try await withTemporaryDirectory { dir in
            let (ca, leaves, list) = try Self.make(dir, number: 42, revoking: 2)
            try Data(list.pemString.utf8).write(to: URL(fileURLWithPath: dir.join("crl.pem")))
            let result = try OpenSSLTool.run([
                "crl", "-in", dir.join("crl.pem"), "-noout", "-text", "-verify", "-CAfile", ca.intermediateCertificatePath,
            ])
            let text = result.output
            #expect(result.status == 0, "\(text)")
            #expect(text.contains("verify OK"), "\(text)")
            #expect(text.contains("X509v3 CRL Number: \n                42") || text.contains("X509v3 CRL Number:\n                42"), "\(text)")
            for leaf in leaves {
                let serial = leaf.certificate.serialNumber.bytes.map { String(format: "%02X", $0) }.joined()
                #expect(text.contains(serial.drop { $0 == "0" }), "serial \(serial) not listed: \(text)")
            }
        }
    }
}
