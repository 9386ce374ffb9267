import Foundation
import IconCore
import IconTestSupport
import Testing

@testable import IconPKI
import X509

@Suite struct PKCS12PasswordTests {
    static func mode(_ path: String) throws -> Int {
        try #require(try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int)
    }

    @Test func generatedPasswordsUseTheUnambiguousAlphabet() {
        let passwords = (0..<20).map { _ in PKCS12Password.generate() }
        for password in passwords {
            #expect(password.count == 16)
            #expect(password.allSatisfy { PKCS12Password.alphabet.contains($0) }, "\(password)")
        }
        for lookAlike in "0O1lI" {
            #expect(!PKCS12Password.alphabet.contains(lookAlike))
        }
        // 93 bits each: twenty draws never collide unless the generator is broken.
        #expect(Set(passwords).count == passwords.count)
    }

    @Test func readsTheFirstLineWithoutItsLineEnding() throws {
        try withTemporaryDirectorySync { dir in
            for (content, expected) in [
                ("secret\n", "secret"), ("secret", "secret"), ("secret\r\nsecond line\n", "secret"),
                (" spaced out \n", " spaced out "), ("Grüße\n", "Grüße"),
            ] {
                try content.write(toFile: dir.join("pw"), atomically: true, encoding: .utf8)
                #expect(try PKCS12Password.read(fromFile: dir.join("pw")) == expected)
            }
        }
    }

    @Test func namesTheFileAtFault() throws {
        try withTemporaryDirectorySync { dir in
            let missing = try #require(throws: IconError.self) { try PKCS12Password.read(fromFile: dir.join("none")) }
            #expect(missing.code == .notFound)
            #expect(missing.message.contains(dir.join("none")))
            for content in [Data("\nsecond".utf8), Data(), Data([0xFF, 0xFE, 0x0A])] {
                try content.write(to: URL(fileURLWithPath: dir.join("bad")))
                let error = try #require(throws: IconError.self) { try PKCS12Password.read(fromFile: dir.join("bad")) }
                #expect(error.code == .invalidArgument)
                #expect(error.message.contains(dir.join("bad")))
            }
        }
    }

    @Test func issuedIdentityWritesItsBundleAndANewPassword() async throws {
        try await withTemporaryDirectory { dir in
            let ca = try CertificateAuthority.create(in: dir.join("ca"), commonName: "Fleet", organization: "Org", now: Date())
            let issued = try ca.issue(role: .operator, commonName: "Alice Operator", validityDays: 30, now: Date())
            let written = try issued.writePKCS12(prefix: dir.join("keys/alice"), password: nil)
            #expect(written.bundle == dir.join("keys/alice.p12"))
            #expect(written.passwordFile == dir.join("keys/alice.p12.password"))
            #expect(try Self.mode(written.bundle) == 0o600)
            #expect(try Self.mode(dir.join("keys/alice.p12.password")) == 0o600)
            let text = try String(contentsOfFile: dir.join("keys/alice.p12.password"), encoding: .utf8)
            #expect(text.count == 17 && text.hasSuffix("\n"), "\(text.debugDescription)")

            let dump = try OpenSSLTool.run([
                "pkcs12", "-in", written.bundle, "-nodes", "-passin", "file:\(dir.join("keys/alice.p12.password"))",
            ])
            #expect(dump.status == 0, "\(dump.output)")
            #expect(try PEMFile.certificates(fromPEM: dump.output, source: "openssl") == [issued.certificate, ca.intermediate])
            #expect(try PEMFile.privateKey(fromPEM: dump.output, source: "openssl").publicKey == issued.certificate.publicKey)
        }
    }

    @Test func aGivenPasswordRemovesAnOutdatedPasswordFileOnly() async throws {
        try await withTemporaryDirectory { dir in
            let ca = try CertificateAuthority.create(in: dir.join("ca"), commonName: "Fleet", organization: "Org", now: Date())
            let issued = try ca.issue(role: .operator, commonName: "Alice Operator", validityDays: 30, now: Date())
            let prefix = dir.join("alice")
            try issued.writePKCS12(prefix: prefix, password: nil)
            let generated = try PKCS12Password.read(fromFile: "\(prefix).p12.password")

            // The same password again (e.g. --p12-password-file alice.p12.password): kept.
            let again = try issued.writePKCS12(prefix: prefix, password: generated)
            #expect(again.passwordFile == "\(prefix).p12.password")
            #expect(try PKCS12Password.read(fromFile: "\(prefix).p12.password") == generated)

            // Another password: the old file would name a wrong one, so it goes.
            let other = try issued.writePKCS12(prefix: prefix, password: "chosen-by-the-operator")
            #expect(other.passwordFile == nil)
            #expect(!FileManager.default.fileExists(atPath: "\(prefix).p12.password"))
            try "chosen-by-the-operator\n".write(toFile: dir.join("pw"), atomically: true, encoding: .utf8)
            let dump = try OpenSSLTool.run(["pkcs12", "-in", other.bundle, "-nodes", "-passin", "file:\(dir.join("pw"))"])
            #expect(dump.status == 0, "\(dump.output)")
        }
    }
}
