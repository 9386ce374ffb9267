import Foundation
@testable import IconCertServer
import IconCore
import IconPKI
@testable import IconServer
import IconTestSupport
import Testing
import X509

@Suite("certificate policy and subject templates")
struct CertPolicyTests {
    @Test func templateReplacesSystemIDAndKeepsOrder() throws {
        let template = try SubjectTemplate("/C=US/ST=California/O=XXXX/OU=XXXX Test/CN=SYSTEMID")
        let name = try template.distinguishedName(systemID: "0a1b2c")
        // RFC 4514 prints the last RDN first; the encoded order is the template's.
        #expect(name.description == "CN=0a1b2c,OU=XXXX Test,O=XXXX,ST=California,C=US")
        #expect(name.map { String($0.first!.value) } == ["US", "California", "XXXX", "XXXX Test", "0a1b2c"])
        #expect(SubjectTemplate.commonName(of: name) == "0a1b2c")
    }

    @Test func templateRejectsGarbage() {
        for bad in ["CN=x", "/CN", "/XX=1/CN=SYSTEMID", "/C=USA/CN=SYSTEMID", "/CN="] {
            expectCode(IconError.Code.invalidArgument, "\(bad)") {
                _ = try SubjectTemplate(bad).distinguishedName(systemID: "abcdef")
            }
        }
    }

    @Test func escapedSlashStaysInTheValue() throws {
        let name = try SubjectTemplate("/O=A\\/B/CN=SYSTEMID").distinguishedName(systemID: "x")
        #expect(name.description.contains("O=A/B"))
    }

    @Test func defaultPatternIsSixLowercaseHexDigitsAndCustomPatternsWork() throws {
        let policy = CertPolicy(subjectTemplate: "/CN=SYSTEMID")
        #expect(try policy.allows(systemID: "00ff9a"))
        for bad in ["00ff9", "00ff9ab", "00FF9A", "zzzzzz", "abcdef\n"] {
            #expect(try !policy.allows(systemID: bad), "\(bad)")
        }
        let custom = CertPolicy(subjectTemplate: "/CN=SYSTEMID", systemIDPattern: "host-[0-9]+")
        #expect(try custom.allows(systemID: "host-12"))
        #expect(try !custom.allows(systemID: "xhost-12"))
    }

    @Test func loadsAJSONPolicyWithDefaults() throws {
        try withTemporaryDirectorySync { dir in
            let path = dir.join("policy.json")
            try #"{"subjectTemplate": "/O=Ex/CN=SYSTEMID", "validityDays": 10, "extendedKeyUsages": ["serverAuth"]}"#
                .write(toFile: path, atomically: true, encoding: .utf8)
            let policy = try CertPolicy.load(path: path)
            #expect(policy.validityDays == 10)
            #expect(policy.extendedKeyUsages == [.serverAuth])
            #expect(policy.allowedKeyTypes == CertPolicy.KeyType.allCases)
            #expect(policy.systemIDPattern == CertPolicy.defaultSystemIDPattern)

            try #"{"subjectTemplate": "/O=Ex/CN=SYSTEMID", "minimumRSABits": 1024}"#.write(toFile: path, atomically: true, encoding: .utf8)
            expectCode(IconError.Code.invalidArgument) { _ = try CertPolicy.load(path: path) }
            try #"{"subjectTemplate": "/O=Ex/CN=SYSTEMID", "systemIDPattern": "("}"#.write(toFile: path, atomically: true, encoding: .utf8)
            expectCode(IconError.Code.invalidArgument) { _ = try CertPolicy.load(path: path) }
            expectCode(IconError.Code.notFound) { _ = try CertPolicy.load(path: dir.join("missing.json")) }
        }
    }

    @Test func issuerRefusesAKeyThatIsNotTheCAs() throws {
        try withTemporaryDirectorySync { dir in
            let pki = try TestPKI(directory: dir.path)
            expectCode(IconError.Code.badKey) {
                _ = try CertIssuer(caCertPath: pki.intermediate.certPath, caKeyPath: pki.root.keyPath, chainPath: nil, policy: CertPolicy(subjectTemplate: "/CN=SYSTEMID"))
            }
            // A leaf is not a CA.
            expectCode(IconError.Code.badKey) {
                _ = try CertIssuer(caCertPath: pki.device.certPath, caKeyPath: pki.device.keyPath, chainPath: nil, policy: CertPolicy(subjectTemplate: "/CN=SYSTEMID"))
            }
        }
    }

    @Test func issuedCertificatesNeverOutliveTheCA() throws {
        try withTemporaryDirectorySync { dir in
            let pki = try TestPKI(directory: dir.path)
            let issuer = try CertIssuer(
                caCertificate: pki.intermediate.certificate, caKey: .init(pki.intermediate.privateKey),
                policy: CertPolicy(subjectTemplate: "/CN=SYSTEMID", validityDays: 5000))
            guard case .issued(let issued) = issuer.issue(csrPEM: try CertServerFixture.swiftCSR(commonName: "abcdef")) else {
                Issue.record("not issued")
                return
            }
            #expect(issued.certificate.notValidAfter == pki.intermediate.certificate.notValidAfter)
        }
    }
}


/// Expects `body` to throw an `IconError` with `code`.
func expectCode(
    _ code: IconError.Code, _ comment: Comment? = nil, sourceLocation: SourceLocation = #_sourceLocation,
    _ body: () throws -> Void
) {
    let error = #expect(throws: IconError.self, comment, sourceLocation: sourceLocation, performing: body)
    #expect(error?.code == code, comment, sourceLocation: sourceLocation)
}
