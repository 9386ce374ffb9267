import AsyncHTTPClient
import Foundation
@testable import IconCertServer
import IconCore
import IconPKI
@testable import IconServer
import IconTestSupport
import NIOHTTP1
import Synchronization
import Logging
import Testing
import X509

/// Who `icon certserver` issues to: with the devices' CA as client CA, provisioners only; a
/// separate client CA admits its certificates; every requester is rate-limited; weak or CA
/// client certificates are refused.
@Suite("certificate server admission")
struct CertServerAdmissionTests {
    /// The probe: a device of the fleet minted certificates for any id. Now it gets 403 with
    /// the reason, the server said at start why, and nothing is issued.
    @Test func withTheDevicesCAOnlyProvisionersAreAdmitted() async throws {
        try await withTemporaryDirectory { dir in
            let fixture = try CertServerFixture(dir: dir)
            let log = TestLog(level: .info)
            let server = try fixture.server(logger: log.logger())
            #expect(try server.admitsProvisionersOnly())
            let csr = try CertServerFixture.swiftCSR(commonName: "a1b2c3")
            let (device, provisioner) = try await CertServerFixture.withRunning(server) { port in
                let device = try await fixture.withClient(identity: fixture.pki.device) { client in
                    try await CertServerFixture.post(client, port: port, body: csr)
                }
                let provisioner = try await fixture.withClient { client in
                    try await CertServerFixture.post(client, port: port, body: csr)
                }
                return (device, provisioner)
            }
            #expect(device.status == 403)
            #expect(
                device.text
                    == "icon certserver issues only to provisioner certificates (icon pki issue --role provisioner); CN=device-1,O=Iconograph Test has no Iconograph role\n")
            #expect(provisioner.status == 200)
            let records = try IssuanceLog(path: fixture.logPath).records()
            #expect(records.map(\.requester) == [fixture.provisioner.certificate.subject.description])
            #expect(log.messages.contains { $0.contains("only provisioner certificates (icon pki issue --role provisioner) are admitted") })
        }
    }

    /// The original's layout: a separate "master certificate" CA; any certificate it issued may ask.
    @Test func aSeparateClientCAAdmitsItsCertificates() async throws {
        try await withTemporaryDirectory { dir in
            let fixture = try CertServerFixture(dir: dir)
            let masters = try TestPKI(directory: dir.join("masters"))
            let log = TestLog(level: .info)
            let server = try fixture.server(clientCAPath: masters.root.certPath, logger: log.logger())
            #expect(try !server.admitsProvisionersOnly())
            let csr = try CertServerFixture.swiftCSR(commonName: "0a0b0c")
            let result = try await CertServerFixture.withRunning(server) { port in
                try await fixture.withClient(identity: masters.device, intermediatePath: masters.intermediate.certPath) { client in
                    try await CertServerFixture.post(client, port: port, body: csr)
                }
            }
            #expect(result.status == 200)
            #expect(!log.messages.contains { $0.contains("only provisioner certificates") })
            #expect(try IssuanceLog(path: fixture.logPath).records().count == 1)
        }
    }

    @Test func aRequesterPastTheRateGets429WithRetryAfter() async throws {
        try await withTemporaryDirectory { dir in
            let fixture = try CertServerFixture(dir: dir)
            let server = try fixture.server(requestsPerMinute: 3)
            let statuses = try await CertServerFixture.withRunning(server) { port in
                try await fixture.withClient { client in
                    var results: [(status: UInt, text: String, retryAfter: String?)] = []
                    for index in 0..<5 {
                        let csr = try CertServerFixture.swiftCSR(commonName: String(format: "%06x", index))
                        let response = try await CertServerFixture.postWithHeaders(client, port: port, body: csr)
                        results.append((response.status, response.text, response.headers.first(name: "retry-after")))
                    }
                    return results
                }
            }
            #expect(statuses.map(\.status) == [200, 200, 200, 429, 429])
            let refused = try #require(statuses.last)
            let seconds = try #require(refused.retryAfter.flatMap(Int.init))
            #expect((1...60).contains(seconds))
            #expect(refused.text == "more than 3 certificate requests a minute from this certificate; retry in \(seconds) s\n")
            #expect(try IssuanceLog(path: fixture.logPath).records().count == 3)
        }
    }

    @Test func theRateWindowSlides() {
        let clock = Mutex(ContinuousClock.now)
        let gate = CertRequesterGate(admission: .separateClientCA, requestsPerMinute: 2, now: { clock.withLock { $0 } })
        #expect(gate.count("a") == nil)
        #expect(gate.count("a") == nil)
        #expect(gate.count("a")?.status == 429)
        // Another certificate has its own budget.
        #expect(gate.count("b") == nil)
        clock.withLock { $0 += .seconds(61) }
        #expect(gate.count("a") == nil)
    }

    /// Certificates the TLS layer lets through but no requester should hold: an RSA-1024 key and
    /// a CA certificate as a leaf, both with the provisioner role. A normal one passes.
    @Test(.requiresExecutable("openssl", package: "openssl"))
    func weakAndCAClientCertificatesAreRefused() async throws {
        try await withTemporaryDirectory { dir in
            let fixture = try CertServerFixture(dir: dir)
            let role = "extendedKeyUsage=clientAuth,\(IconOID.provisionerRole)\n"
            let ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256"]
            let weak = try OpenSSLLeaf(
                pki: fixture.pki, name: "weak", file: "weak", newKey: ["-newkey", "rsa:1024"],
                extensions: "basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\n" + role)
            let authority = try OpenSSLLeaf(
                pki: fixture.pki, name: "authority", file: "authority", newKey: ec,
                extensions: "basicConstraints=critical,CA:TRUE\nkeyUsage=critical,digitalSignature,keyCertSign\n" + role)
            let good = try OpenSSLLeaf(
                pki: fixture.pki, name: "good", file: "good", newKey: ec,
                extensions: "basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\n" + role)
            let csr = try CertServerFixture.swiftCSR(commonName: "abcdef")
            let results = try await CertServerFixture.withRunning(try fixture.server()) { port in
                var results: [(status: UInt, text: String)] = []
                for leaf in [weak, authority, good] {
                    results.append(
                        try await CertServerFixture.with(try CertServerFixture.client(tls: try leaf.clientTLS(fixture.pki))) { client in
                            try await CertServerFixture.post(client, port: port, body: csr)
                        })
                }
                return results
            }
            #expect(results[0].status == 403)
            #expect(results[0].text == "the client certificate has an RSA key of 1024 bits; at least 2048 are required\n")
            #expect(results[1].status == 403)
            #expect(results[1].text.hasPrefix("the client certificate is refused: CN=authority,O=Iconograph Test is a CA certificate"))
            #expect(results[2].status == 200)
            #expect(try IssuanceLog(path: fixture.logPath).records().count == 1)
        }
    }
}
