import Foundation
import IconCore
import IconTestSupport
import Testing

@testable import IconPKI
import X509

/// A way OpenSSL writes a private key.
struct KeyForm: Sendable, CustomTestStringConvertible {
    let label: String
    let arguments: [String]
    let algorithm: String
    var testDescription: String { label }

    static let all: [KeyForm] = [
        KeyForm(label: "ecparam P-256 with EC PARAMETERS", arguments: ["ecparam", "-name", "prime256v1", "-genkey", "-out", "key.pem"], algorithm: "p256"),
        KeyForm(label: "ecparam P-256 -noout", arguments: ["ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", "key.pem"], algorithm: "p256"),
        KeyForm(label: "ecparam P-384 with EC PARAMETERS", arguments: ["ecparam", "-name", "secp384r1", "-genkey", "-out", "key.pem"], algorithm: "p384"),
        KeyForm(label: "genpkey PKCS#8 P-256", arguments: ["genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", "key.pem"], algorithm: "p256"),
        KeyForm(label: "genpkey PKCS#8 P-384", arguments: ["genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-384", "-out", "key.pem"], algorithm: "p384"),
        KeyForm(label: "genpkey PKCS#8 RSA 2048", arguments: ["genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048", "-out", "key.pem"], algorithm: "rsa"),
        KeyForm(label: "genrsa -traditional PKCS#1 2048", arguments: ["genrsa", "-traditional", "-out", "key.pem", "2048"], algorithm: "rsa"),
    ]
}

@Suite struct PEMFileTests {
    @Test(arguments: KeyForm.all)
    func loadsKeyFormAndInteroperatesWithOpenSSL(form: KeyForm) async throws {
        try await withTemporaryDirectory { dir in
            try OpenSSLTool.mustRun(form.arguments, in: dir.path)
            try OpenSSLTool.mustRun(["pkey", "-in", "key.pem", "-pubout", "-out", "pub.pem"], in: dir.path)
            let key = try PEMFile.privateKey(atPath: dir.join("key.pem"))
            #expect(key.publicKey.algorithmName == expected(form.algorithm))

            // Our signature, checked by openssl.
            let data = Array("manifest bytes \(form.label)".utf8)
            try Data(data).write(to: URL(fileURLWithPath: dir.join("data")))
            let signer = try SigningKey(key)
            try Data(try signer.sign(data)).write(to: URL(fileURLWithPath: dir.join("ours.sig")))
            let verified = try OpenSSLTool.run(
                ["dgst", "-sha256", "-verify", "pub.pem", "-signature", "ours.sig", "data"], in: dir.path)
            #expect(verified.status == 0, "\(verified.output)")

            // openssl's signature, checked by us.
            try OpenSSLTool.mustRun(["dgst", "-sha256", "-sign", "key.pem", "-out", "theirs.sig", "data"], in: dir.path)
            let theirs = try [UInt8](Data(contentsOf: URL(fileURLWithPath: dir.join("theirs.sig"))))
            #expect(SignatureCheck.isValid(theirs, over: data, publicKey: signer.publicKey))
            #expect(!SignatureCheck.isValid(theirs, over: data + [0], publicKey: signer.publicKey))
        }
    }

    private func expected(_ name: String) -> KeyAlgorithm {
        switch name {
        case "p256": .p256
        case "p384": .p384
        default: .rsa
        }
    }

    @Test(arguments: [
        ["genrsa", "-traditional", "-out", "key.pem", "1024"],
        ["genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:1024", "-out", "key.pem"],
    ])
    func refusesSmallRSAKeys(arguments: [String]) async throws {
        try await withTemporaryDirectory { dir in
            try OpenSSLTool.mustRun(arguments, in: dir.path)
            let path = dir.join("key.pem")
            let error = try #require(throws: IconError.self) { try PEMFile.privateKey(atPath: path) }
            #expect(error.code == .badKey)
            #expect(error.message.contains("1024"))
            #expect(error.message.contains(path))
        }
    }

    @Test func refusesEncryptedKeys() async throws {
        try await withTemporaryDirectory { dir in
            try OpenSSLTool.mustRun(
                ["genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-aes256", "-pass", "pass:secret", "-out", "key.pem"],
                in: dir.path)
            let error = try #require(throws: IconError.self) { try PEMFile.privateKey(atPath: dir.join("key.pem")) }
            #expect(error.code == .badKey)
            #expect(error.message.contains("encrypted"))
        }
    }

    @Test func missingFileIsNotFoundAndNamesThePath() throws {
        let path = "/nonexistent/icon-\(UUID().uuidString)/key.pem"
        let keyError = try #require(throws: IconError.self) { try PEMFile.privateKey(atPath: path) }
        #expect(keyError.code == .notFound)
        #expect(keyError.message.contains(path))
        let certError = try #require(throws: IconError.self) { try PEMFile.certificates(atPath: path) }
        #expect(certError.code == .notFound)
        #expect(certError.message.contains(path))
    }

    @Test func unreadablePathIsIO() async throws {
        try await withTemporaryDirectory { dir in
            // A directory cannot be read as a file, even by root (which ignores permission bits).
            let error = try #require(throws: IconError.self) { try PEMFile.certificates(atPath: dir.path) }
            #expect(error.code == .io)
            #expect(error.message.contains(dir.path))
        }
    }

    @Test(arguments: [
        "not a pem file at all\n",
        "-----BEGIN CERTIFICATE-----\nZ2FyYmFnZQ==\n-----END CERTIFICATE-----\n",
        "-----BEGIN PRIVATE KEY-----\nZ2FyYmFnZQ==\n-----END PRIVATE KEY-----\n",
        "-----BEGIN EC PRIVATE KEY-----\n!!!!\n-----END EC PRIVATE KEY-----\n",
    ])
    func garbageIsBadKeyAndNamesThePath(text: String) async throws {
        try await withTemporaryDirectory { dir in
            let path = dir.join("garbage.pem")
            try text.write(toFile: path, atomically: true, encoding: .utf8)
            let keyError = try #require(throws: IconError.self) { try PEMFile.privateKey(atPath: path) }
            #expect(keyError.code == .badKey)
            #expect(keyError.message.contains(path))
            let certError = try #require(throws: IconError.self) { try PEMFile.certificates(atPath: path) }
            #expect(certError.code == .badKey)
            #expect(certError.message.contains(path))
        }
    }

    @Test func keyFileHasNoCertificateAndCertFileHasNoKey() throws {
        let keyPath = CompatVectors.path("pki/signing.key.pem")
        let certPath = CompatVectors.path("pki/signing.cert.pem")
        expectIconError(.badKey) { try PEMFile.certificates(atPath: keyPath) }
        let error = try #require(throws: IconError.self) { try PEMFile.privateKey(atPath: certPath) }
        #expect(error.code == .badKey)
        #expect(error.message.contains(certPath))
    }

    @Test func readsEveryCertificateOfABundle() throws {
        let pem = try String(contentsOfFile: CompatVectors.path("pki/root.cert.pem"), encoding: .utf8)
            + String(contentsOfFile: CompatVectors.path("pki/other-root.cert.pem"), encoding: .utf8)
        let certificates = try PEMFile.certificates(fromPEM: pem, source: "bundle")
        #expect(certificates.count == 2)
        #expect(certificates[0].subject != certificates[1].subject)
    }

    @Test func readsAnOpenSSLPKCS12ExportWithBagAttributes() async throws {
        try await withTemporaryDirectory { dir in
            let pki = try TestPKI(directory: dir.join("pki"))
            try OpenSSLTool.mustRun(
                ["pkcs12", "-export", "-in", pki.server.certPath, "-inkey", pki.server.keyPath,
                 "-certfile", pki.intermediate.certPath, "-passout", "pass:x", "-out", "bundle.p12"], in: dir.path)
            try OpenSSLTool.mustRun(["pkcs12", "-in", "bundle.p12", "-passin", "pass:x", "-nodes", "-out", "bundle.pem"], in: dir.path)
            let text = try String(contentsOfFile: dir.join("bundle.pem"), encoding: .utf8)
            #expect(text.contains("Bag Attributes"))
            let certificates = try PEMFile.certificates(atPath: dir.join("bundle.pem"))
            #expect(Set(certificates) == [pki.server.certificate, pki.intermediate.certificate])
            let key = try PEMFile.privateKey(atPath: dir.join("bundle.pem"))
            #expect(key.publicKey == pki.server.certificate.publicKey)
        }
    }

    @Test func acceptsWindowsLineEndings() throws {
        let pem = try String(contentsOfFile: CompatVectors.path("pki/signing.key.pem"), encoding: .utf8)
            .replacingOccurrences(of: "\n", with: "\r\n")
        let key = try PEMFile.privateKey(fromPEM: pem, source: "crlf.pem")
        let certificate = try #require(try PEMFile.certificates(atPath: CompatVectors.path("pki/signing.cert.pem")).first)
        #expect(key.publicKey == certificate.publicKey)
    }

    @Test func loadsTheCompatKeys() throws {
        for name in ["root", "intermediate", "signing", "rsa-signing", "other-root"] {
            let key = try PEMFile.privateKey(atPath: CompatVectors.path("pki/\(name).key.pem"))
            let certificate = try #require(try PEMFile.certificates(atPath: CompatVectors.path("pki/\(name).cert.pem")).first)
            #expect(key.publicKey == certificate.publicKey, "\(name)")
        }
    }
}
