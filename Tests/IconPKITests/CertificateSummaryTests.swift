import Foundation
import IconTestSupport
import Testing

@testable import IconPKI

@Suite struct CertificateSummaryTests {
    @Test func summarisesAnIssuedServerCertificate() async throws {
        try await withTemporaryDirectory { dir in
            let ca = try CertificateAuthority.create(in: dir.join("ca"), commonName: "Fleet", organization: "Org", now: Date())
            let issued = try ca.issue(
                role: .server, commonName: "images", dnsNames: ["localhost"], ipAddresses: ["127.0.0.1", "::1"],
                validityDays: 10, now: Date())
            let fields = Dictionary(uniqueKeysWithValues: CertificateSummary(issued.certificate, now: Date()).fields.map { ($0.label, $0.value) })
            #expect(fields["subject"] == "CN=images,O=Org")
            #expect(fields["issuer"] == "CN=Fleet Intermediate CA,O=Org")
            #expect(fields["names"] == "DNS:localhost, IP:127.0.0.1, IP:0:0:0:0:0:0:0:1")
            #expect(fields["roles"] == "server")
            #expect(fields["key"] == "EC P-256")
            #expect(fields["extended key usage"] == "serverAuth")
            #expect(fields["serial"]?.split(separator: ":").count == 20)
            #expect(fields["CA"] == nil)

            let later = CertificateSummary(issued.certificate, now: Date().addingTimeInterval(20 * 86400))
            #expect(later.text.contains("(expired)"))
            #expect(later.text.contains("roles:"))
        }
    }

    @Test func summarisesTheCompatCertificates() throws {
        let root = try #require(try PEMFile.certificates(atPath: CompatVectors.path("pki/root.cert.pem")).first)
        let rootFields = CertificateSummary(root, now: Date()).fields
        #expect(rootFields.contains { $0.label == "CA" && $0.value.hasPrefix("yes") })
        #expect(rootFields.contains { $0.label == "key" && $0.value == "EC P-384" })
        let rsa = try #require(try PEMFile.certificates(atPath: CompatVectors.path("pki/rsa-signing.cert.pem")).first)
        #expect(CertificateSummary(rsa, now: Date()).fields.contains { $0.label == "key" && $0.value == "RSA 2048" })
    }
}
