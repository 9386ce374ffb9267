import AsyncHTTPClient
import Foundation
@testable import IconCertServer
import IconCore
import IconPKI
@testable import IconServer
import IconTestSupport
import SwiftASN1
import Testing
import X509

@Suite("certificate server over mTLS on loopback")
struct CertServerTests {
    @Test func signsASwiftCSRWithTheTemplatedSubjectAndPolicyUsages() async throws {
        try await withTemporaryDirectory { dir in
            let fixture = try CertServerFixture(dir: dir)
            let csr = try CertServerFixture.swiftCSR(commonName: "a1b2c3")
            let (status, text) = try await CertServerFixture.withRunning(try fixture.server()) { port in
                try await fixture.withClient { client in
                return try await CertServerFixture.post(client, port: port, body: csr)
                }
            }
            #expect(status == 200)
            let certificates = try PEMFile.certificates(fromPEM: text, source: "response")
            #expect(certificates.count == 2)  // the leaf, then the intermediate CA
            let leaf = try #require(certificates.first)
            #expect(leaf.subject.description == "CN=a1b2c3,O=Example,ST=California,C=US")
            let verdict = await ChainVerifier(roots: [fixture.pki.root.certificate])
                .verify(leaf: leaf, intermediates: Array(certificates.dropFirst()), purpose: .clientAuth, now: Date())
            guard case .trusted = verdict else {
                Issue.record("issued certificate does not chain to the root: \(verdict)")
                return
            }
            let eku = try #require(try leaf.extensions.extendedKeyUsage)
            #expect(Array(eku) == [.clientAuth])
            #expect(try leaf.extensions.keyUsage?.digitalSignature == true)
            #expect(!CertIssuer.isCA(leaf))
            // The id is a DNS name too: the fleet hub knows the machine by it.
            #expect(CertificateIdentity.dnsNames(of: leaf) == ["a1b2c3"])
            // openssl agrees the chain is good.
            let leafPath = dir.join("leaf.pem")
            try leaf.serializeAsPEM().pemString.write(toFile: leafPath, atomically: true, encoding: .utf8)
            try OpenSSLTool.mustRun(["verify", "-CAfile", fixture.pki.root.certPath, "-untrusted", fixture.pki.intermediate.certPath, "-purpose", "sslclient", leafPath])

            let records = try IssuanceLog(path: fixture.logPath).records()
            #expect(records.count == 1)
            #expect(records.first?.requester == fixture.provisioner.certificate.subject.description)
            #expect(records.first?.systemID == "a1b2c3")
            #expect(records.first?.serial == leaf.serialNumber.bytes.map { String(format: "%02x", $0) }.joined())
        }
    }

    @Test func signsOpenSSLRequestsAtRootPathWithServerAuthWhenThePolicySaysSo() async throws {
        try await withTemporaryDirectory { dir in
            let fixture = try CertServerFixture(dir: dir)
            let ec = try fixture.opensslCSR(commonName: "0f0f0f", newKey: ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-384"], name: "ec")
            let rsa = try fixture.opensslCSR(commonName: "abcdef", newKey: ["-newkey", "rsa:2048"], name: "rsa")
            let policy = CertPolicy(subjectTemplate: "/O=Example/OU=Fleet/CN=SYSTEMID", validityDays: 30, extendedKeyUsages: [.clientAuth, .serverAuth])
            let results = try await CertServerFixture.withRunning(try fixture.server(policy: policy)) { port in
                try await fixture.withClient { client in
                return [
                    try await CertServerFixture.post(client, port: port, body: ec, path: "/"),
                    try await CertServerFixture.post(client, port: port, body: rsa, path: "/"),
                ]
                }
            }
            #expect(results.map(\.status) == [200, 200])
            for (result, id) in zip(results, ["0f0f0f", "abcdef"]) {
                let leaf = try #require(try PEMFile.certificates(fromPEM: result.text, source: "response").first)
                #expect(leaf.subject.description == "CN=\(id),OU=Fleet,O=Example")
                #expect(Set(try #require(try leaf.extensions.extendedKeyUsage)) == [.clientAuth, .serverAuth])
                let days = leaf.notValidAfter.timeIntervalSince(leaf.notValidBefore) / 86400
                #expect(days > 29.9 && days < 30.1)
            }
            #expect(try IssuanceLog(path: fixture.logPath).records().count == 2)
        }
    }

    @Test func refusesBadRequestsWith400AndTheReasonAndIssuesNothing() async throws {
        try await withTemporaryDirectory { dir in
            let fixture = try CertServerFixture(dir: dir)
            let good = try CertServerFixture.swiftCSR(commonName: "123abc")
            // Flip a bit inside the signature (the last byte of the DER).
            let badSignature = try CertServerFixture.flipLastByte(ofPEM: good)
            let cases: [(name: String, body: String, contentType: String, status: UInt, reason: String)] = [
                ("malformed", "-----BEGIN CERTIFICATE REQUEST-----\nAAAA\n-----END CERTIFICATE REQUEST-----\n", CertServer.pemMediaType, 400, "malformed"),
                ("not PEM", "hello", CertServer.pemMediaType, 400, "malformed"),
                ("bad signature", badSignature, CertServer.pemMediaType, 400, "signature"),
                ("disallowed subject", try CertServerFixture.swiftCSR(commonName: "../../etc"), CertServer.pemMediaType, 400, "does not match"),
                ("uppercase id", try CertServerFixture.swiftCSR(commonName: "ABCDEF"), CertServer.pemMediaType, 400, "does not match"),
                ("RSA 1024", try fixture.opensslCSR(commonName: "abcdef", newKey: ["-newkey", "rsa:1024"], name: "small"), CertServer.pemMediaType, 400, "1024"),
                ("wrong content type", good, "application/json", 415, "Content-Type"),
                ("too large", good + String(repeating: "#", count: 70 * 1024), CertServer.pemMediaType, 413, "larger than"),
            ]
            let results = try await CertServerFixture.withRunning(try fixture.server()) { port in
                try await fixture.withClient { client in
                var results: [(UInt, String)] = []
                for item in cases {
                    results.append(try await CertServerFixture.post(client, port: port, body: item.body, contentType: item.contentType))
                }
                return results
                }
            }
            for (item, result) in zip(cases, results) {
                #expect(result.0 == item.status, "\(item.name): \(result.1)")
                #expect(result.1.contains(item.reason), "\(item.name): \(result.1)")
            }
            #expect(try IssuanceLog(path: fixture.logPath).records().isEmpty)
        }
    }

    @Test func refusesAKeyTypeThePolicyDoesNotAllow() async throws {
        try await withTemporaryDirectory { dir in
            let fixture = try CertServerFixture(dir: dir)
            let csr = try fixture.opensslCSR(commonName: "abcdef", newKey: ["-newkey", "rsa:2048"], name: "rsa")
            let policy = CertPolicy(subjectTemplate: "/CN=SYSTEMID", allowedKeyTypes: [.p384])
            let result = try await CertServerFixture.withRunning(try fixture.server(policy: policy)) { port in
                try await fixture.withClient { client in
                return try await CertServerFixture.post(client, port: port, body: csr)
                }
            }
            #expect(result.status == 400)
            #expect(result.text.contains("RSA 2048 key is not allowed"))
        }
    }

    @Test func aClientWithoutACertificateFailsTheHandshake() async throws {
        try await withTemporaryDirectory { dir in
            let fixture = try CertServerFixture(dir: dir)
            let csr = try CertServerFixture.swiftCSR(commonName: "abcdef")
            _ = try await CertServerFixture.withRunning(try fixture.server()) { port in
                try await fixture.withClient(withClientCertificate: false) { client in
                await #expect(throws: (any Error).self) {
                    _ = try await CertServerFixture.post(client, port: port, body: csr)
                }
                }
            }
            #expect(try IssuanceLog(path: fixture.logPath).records().isEmpty)
        }
    }
}
