import Foundation
import IconCore
import IconTestSupport
import Testing

@testable import IconPKI
import X509

/// PKCS#12 files as `openssl pkcs12` and NSS (the key store of Chromium and Firefox) read them.
@Suite struct PKCS12FileTests {
    /// `openssl req -newkey` arguments for each key type a PKCS#12 file must carry.
    static let keyTypes: [[String]] = [
        ["ec", "-pkeyopt", "ec_paramgen_curve:P-256"],
        ["ec", "-pkeyopt", "ec_paramgen_curve:P-384"],
        ["rsa:2048"],
    ]

    /// A CA in `dir/ca` and an operator certificate "Alice Operator" for a key openssl made.
    struct Fixture {
        let ca: CertificateAuthority
        let certificate: Certificate
        let key: Certificate.PrivateKey
    }

    static func fixture(in dir: TemporaryDirectory, keyArguments: [String]) throws -> Fixture {
        let ca = try CertificateAuthority.create(in: dir.join("ca"), commonName: "Fleet", organization: "Example Org", now: Date())
        let csr = try CSRSigningTests.openSSLRequest(in: dir, keyArguments: keyArguments)
        let certificate = try ca.sign(
            csr: csr, role: .operator, subject: try ca.subject(commonName: "Alice Operator"), validityDays: 30, now: Date())
        return Fixture(ca: ca, certificate: certificate, key: try PEMFile.privateKey(atPath: dir.join("req.key.pem")))
    }

    /// Writes the fixture as `dir/alice.p12` with `password` in `dir/alice.password`; returns both paths.
    static func writeBundle(_ fixture: Fixture, password: String, in dir: TemporaryDirectory) throws -> (p12: String, password: String) {
        let bytes = try PKCS12File.encode(
            certificate: fixture.certificate, chain: [fixture.ca.intermediate], privateKey: fixture.key, password: password)
        try Data(bytes).write(to: URL(fileURLWithPath: dir.join("alice.p12")))
        try (password + "\n").write(toFile: dir.join("alice.password"), atomically: true, encoding: .utf8)
        return (dir.join("alice.p12"), dir.join("alice.password"))
    }

    @Test(arguments: keyTypes)
    func opensslReadsTheCertificateChainAndKey(keyArguments: [String]) async throws {
        try await withTemporaryDirectory { dir in
            let fixture = try Self.fixture(in: dir, keyArguments: keyArguments)
            let paths = try Self.writeBundle(fixture, password: "x7Kp2mQr9sTv4wYz", in: dir)
            let dump = try OpenSSLTool.run(["pkcs12", "-in", paths.p12, "-info", "-nodes", "-passin", "file:\(paths.password)"])
            #expect(dump.status == 0, "\(dump.output)")
            // The algorithms OpenSSL 3 chooses by default.
            #expect(dump.output.contains("MAC: sha256, Iteration 2048"), "\(dump.output)")
            #expect(dump.output.contains("PKCS7 Encrypted data: PBES2, PBKDF2, AES-256-CBC, Iteration 2048, PRF hmacWithSHA256"))
            #expect(dump.output.contains("Shrouded Keybag: PBES2, PBKDF2, AES-256-CBC, Iteration 2048, PRF hmacWithSHA256"))
            // Key and leaf share the friendly name and local key id; the intermediate has neither.
            #expect(dump.output.components(separatedBy: "friendlyName: Alice Operator\n").count - 1 == 2)
            let keyIDs = dump.output.split(separator: "\n").filter { $0.contains("localKeyID:") }
            #expect(keyIDs.count == 2)
            #expect(Set(keyIDs).count == 1)

            let certificates = try PEMFile.certificates(fromPEM: dump.output, source: "openssl output")
            #expect(certificates == [fixture.certificate, fixture.ca.intermediate])
            let key = try PEMFile.privateKey(fromPEM: dump.output, source: "openssl output")
            #expect(key.publicKey == fixture.certificate.publicKey)
            #expect(key.publicKey.algorithmName == fixture.key.publicKey.algorithmName)
        }
    }

    @Test func opensslRefusesAWrongPassword() async throws {
        try await withTemporaryDirectory { dir in
            let fixture = try Self.fixture(in: dir, keyArguments: Self.keyTypes[0])
            let paths = try Self.writeBundle(fixture, password: "right-password", in: dir)
            try "wrong-password\n".write(toFile: dir.join("wrong"), atomically: true, encoding: .utf8)
            let dump = try OpenSSLTool.run(["pkcs12", "-in", paths.p12, "-info", "-nodes", "-passin", "file:\(dir.join("wrong"))"])
            #expect(dump.status != 0)
            #expect(dump.output.contains("Mac verify error"), "\(dump.output)")
            #expect(!dump.output.contains("BEGIN PRIVATE KEY"))
        }
    }

    @Test(.enabled(if: NSSDatabase.isAvailable, "needs certutil and pk12util (Debian package libnss3-tools)"), arguments: keyTypes)
    func nssImportsIt(keyArguments: [String]) async throws {
        try await withTemporaryDirectory { dir in
            let fixture = try Self.fixture(in: dir, keyArguments: keyArguments)
            let paths = try Self.writeBundle(fixture, password: "x7Kp2mQr9sTv4wYz", in: dir)
            let database = try NSSDatabase(directory: dir.join("nssdb"))
            try "not-the-password\n".write(toFile: dir.join("wrong"), atomically: true, encoding: .utf8)
            let refused = try database.importPKCS12(paths.p12, passwordFile: dir.join("wrong"))
            #expect(refused.status != 0, "\(refused.output)")

            let imported = try database.importPKCS12(paths.p12, passwordFile: paths.password)
            #expect(imported.status == 0, "\(imported.output)")
            #expect(imported.output.contains("PKCS12 IMPORT SUCCESSFUL"), "\(imported.output)")
            let listing = try database.listCertificates()
            // "u,u,u": NSS holds the private key of the certificate, so it can present it.
            let line = try #require(listing.split(separator: "\n").first { $0.hasPrefix("Alice Operator") }, "\(listing)")
            #expect(line.hasSuffix("u,u,u"), "\(listing)")
            #expect(listing.contains("Fleet Intermediate CA"), "\(listing)")
            let keys = try database.listKeys()
            #expect(keys.status == 0, "\(keys.output)")
            #expect(keys.output.contains("Alice Operator"), "\(keys.output)")
        }
    }

    @Test func aPasswordOutsideASCIIWorksInOpenSSLAndNSS() async throws {
        try await withTemporaryDirectory { dir in
            let fixture = try Self.fixture(in: dir, keyArguments: Self.keyTypes[0])
            let paths = try Self.writeBundle(fixture, password: "Grüße-пароль-密码", in: dir)
            let dump = try OpenSSLTool.run(["pkcs12", "-in", paths.p12, "-info", "-nodes", "-passin", "file:\(paths.password)"])
            #expect(dump.status == 0, "\(dump.output)")
            #expect(try PEMFile.privateKey(fromPEM: dump.output, source: "openssl output").publicKey == fixture.certificate.publicKey)
            if NSSDatabase.isAvailable {
                let imported = try NSSDatabase(directory: dir.join("nssdb")).importPKCS12(paths.p12, passwordFile: paths.password)
                #expect(imported.status == 0, "\(imported.output)")
            }
        }
    }

    /// The MAC key derivation against OpenSSL's own PKCS12KDF, for one and for several output
    /// blocks (the second block exercises the input update of RFC 7292 B.2 step 6).
    @Test(arguments: [(UInt8(3), 32), (UInt8(1), 100)])
    func pkcs12KDFMatchesOpenSSL(id: UInt8, count: Int) throws {
        let password = PKCS12MAC.bmpPassword("pässword")
        let salt: [UInt8] = Array(0..<20)
        let hex = { (bytes: [UInt8]) in bytes.map { String(format: "%02x", $0) }.joined() }
        let expected = try OpenSSLTool.mustRun([
            "kdf", "-keylen", "\(count)", "-kdfopt", "digest:SHA256", "-kdfopt", "hexpass:\(hex(password))",
            "-kdfopt", "hexsalt:\(hex(salt))", "-kdfopt", "iter:2048", "-kdfopt", "id:\(id)", "PKCS12KDF",
        ]).filter { $0.isHexDigit }.lowercased()
        let derived = PKCS12MAC.derive(password: password, salt: salt, id: id, iterations: 2048, count: count)
        #expect(hex(derived) == expected)
    }

    @Test func bmpPasswordIsBigEndianUTF16WithATrailingZero() {
        #expect(PKCS12MAC.bmpPassword("Aé") == [0x00, 0x41, 0x00, 0xE9, 0x00, 0x00])
        // Outside the BMP: a surrogate pair, as OpenSSL encodes it.
        #expect(PKCS12MAC.bmpPassword("😀") == [0xD8, 0x3D, 0xDE, 0x00, 0x00, 0x00])
    }

    @Test func refusesAKeyOfAnotherCertificate() async throws {
        try await withTemporaryDirectory { dir in
            let fixture = try Self.fixture(in: dir, keyArguments: Self.keyTypes[0])
            let other = try PEMFile.privateKey(atPath: dir.join("ca/intermediate.key.pem"))
            let error = try #require(throws: IconError.self) {
                try PKCS12File.encode(certificate: fixture.certificate, chain: [], privateKey: other, password: "p")
            }
            #expect(error.code == .badKey)
            #expect(error.message.contains("Alice Operator"))
        }
    }

    @Test func refusesAnEmptyPasswordAndFewIterations() async throws {
        try await withTemporaryDirectory { dir in
            let fixture = try Self.fixture(in: dir, keyArguments: Self.keyTypes[0])
            for (password, iterations) in [("", 2048), ("p", 1000)] {
                let error = try #require(throws: IconError.self) {
                    try PKCS12File.encode(
                        certificate: fixture.certificate, chain: [], privateKey: fixture.key, password: password,
                        iterations: iterations)
                }
                #expect(error.code == .invalidArgument)
            }
        }
    }

    @Test func eachFileHasItsOwnSaltsAndIVs() async throws {
        try await withTemporaryDirectory { dir in
            let fixture = try Self.fixture(in: dir, keyArguments: Self.keyTypes[0])
            let encode = {
                try PKCS12File.encode(
                    certificate: fixture.certificate, chain: [fixture.ca.intermediate], privateKey: fixture.key, password: "p")
            }
            let first = try encode()
            let second = try encode()
            #expect(first.count == second.count)
            #expect(first != second)
        }
    }
}
