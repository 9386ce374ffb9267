import Foundation
import IconCore
import IconPKI
import IconTestSupport
import Testing

@testable import IconManifest

@Suite struct SignedManifestTests {
    static func compat(_ name: String) -> String { CompatVectors.path(name) }
    static func verifier(_ root: String) throws -> ChainVerifier { try ChainVerifier(rootsFile: compat("pki/\(root)")) }

    static func expectRejected(_ verdict: ManifestVerdict, containing text: String, sourceLocation: SourceLocation = #_sourceLocation) {
        guard case .rejected(let reason) = verdict else {
            Issue.record("expected a rejection containing \"\(text)\"", sourceLocation: sourceLocation)
            return
        }
        #expect(reason.contains(text), "\(reason)", sourceLocation: sourceLocation)
    }

    @Test(arguments: ["manifest.json", "manifest.rsa.json"])
    func originalManifestsVerify(file: String) async throws {
        let data = try DemoImages.read(Self.compat("images/demo/\(file)"))
        let verdict = await SignedManifest.verify(data, verifier: try Self.verifier("root.cert.pem"), now: Date())
        guard case .verified(let manifest, let signer) = verdict else {
            Issue.record("\(file) rejected: \(verdict)")
            return
        }
        let unsigned = try Manifest.decode(DemoImages.read(Self.compat("images/demo/manifest.json.unsigned")), source: "compat")
        #expect(manifest == unsigned)
        let expected = try PEMFile.certificates(atPath: Self.compat(file.contains("rsa") ? "pki/rsa-signing.cert.pem" : "pki/signing.cert.pem"))
        #expect(signer == expected[0])
    }

    @Test func tamperedManifestIsRejected() async throws {
        let data = try DemoImages.read(Self.compat("images/demo/manifest.tampered.json"))
        let verdict = await SignedManifest.verify(data, verifier: try Self.verifier("root.cert.pem"), now: Date())
        Self.expectRejected(verdict, containing: "bad signature")
    }

    @Test(arguments: ["manifest.json", "manifest.rsa.json", "manifest.tampered.json"])
    func otherRootRejectsEverything(file: String) async throws {
        let data = try DemoImages.read(Self.compat("images/demo/\(file)"))
        let verdict = await SignedManifest.verify(data, verifier: try Self.verifier("other-root.cert.pem"), now: Date())
        Self.expectRejected(verdict, containing: "untrusted signer")
    }

    @Test func expiredSignerIsRejected() async throws {
        let data = try DemoImages.read(Self.compat("images/demo/manifest.json"))
        let later = Date(timeIntervalSince1970: 7_000_000_000)  // year 2191, after every compat cert
        Self.expectRejected(await SignedManifest.verify(data, verifier: try Self.verifier("root.cert.pem"), now: later), containing: "expired")
    }

    @Test func wrapperTextIsByteIdenticalToOriginal() throws {
        struct Fields: Decodable { let cert: String; let other_certs: [String]; let sig: String; let inner: String }
        for file in ["manifest.json", "manifest.rsa.json"] {
            let data = try DemoImages.read(Self.compat("images/demo/\(file)"))
            let fields = try JSONDecoder().decode(Fields.self, from: data)
            let rewrapped = SignedManifest.wrap(
                certificate: fields.cert, otherCertificates: fields.other_certs, signature: fields.sig, inner: fields.inner)
            #expect(rewrapped == data, "\(file)")
        }
    }

    @Test func signatureMadeByOpensslVerifies() async throws {
        try await withTemporaryDirectory { dir in
            let inner = Manifest(
                timestamp: 1_800_000_000,
                images: [ManifestImage(timestamp: 1_799_999_999, hash: String(repeating: "a", count: 64), volumeID: "Ünïcode ‱", rollout: 42)]
            ).encodedText()
            try Data(inner.utf8).write(to: URL(fileURLWithPath: dir.join("inner")))
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/usr/bin/openssl")
            process.arguments = ["dgst", "-sha256", "-sign", Self.compat("pki/signing.key.pem"), "-out", dir.join("sig"), dir.join("inner")]
            try process.run()
            process.waitUntilExit()
            try #require(process.terminationStatus == 0, "openssl dgst failed")
            let signature = try DemoImages.read(dir.join("sig"))
            let wrapped = SignedManifest.wrap(
                certificate: try String(contentsOfFile: Self.compat("pki/signing.cert.pem"), encoding: .utf8),
                otherCertificates: [try String(contentsOfFile: Self.compat("pki/intermediate.cert.pem"), encoding: .utf8)],
                signature: Array(signature).hexString, inner: inner)
            let verdict = await SignedManifest.verify(wrapped, verifier: try Self.verifier("root.cert.pem"), now: Date())
            #expect(verdict.manifest?.images.first?.volumeID == "Ünïcode ‱")
            #expect(verdict.manifest?.images.first?.rollout == 42)
            // Without the intermediate the chain is incomplete.
            let noChain = SignedManifest.wrap(
                certificate: try String(contentsOfFile: Self.compat("pki/signing.cert.pem"), encoding: .utf8),
                otherCertificates: [], signature: Array(signature).hexString, inner: inner)
            Self.expectRejected(await SignedManifest.verify(noChain, verifier: try Self.verifier("root.cert.pem"), now: Date()), containing: "untrusted signer")
        }
    }

    @Test func malformedInputsAreRejectedWithAReason() async throws {
        let verifier = try Self.verifier("root.cert.pem")
        let cert = try String(contentsOfFile: Self.compat("pki/rsa-signing.cert.pem"), encoding: .utf8)
        Self.expectRejected(await SignedManifest.verify(Data("not json".utf8), verifier: verifier, now: Date()), containing: "not a signed manifest")
        Self.expectRejected(await SignedManifest.verify(Data("{\"cert\": \"x\"}".utf8), verifier: verifier, now: Date()), containing: "not a signed manifest")
        let badCert = SignedManifest.wrap(certificate: "garbage", otherCertificates: [], signature: "00", inner: "{}")
        Self.expectRejected(await SignedManifest.verify(badCert, verifier: verifier, now: Date()), containing: "cert")
        let badHex = SignedManifest.wrap(certificate: cert, otherCertificates: [], signature: "zz", inner: "{}")
        Self.expectRejected(await SignedManifest.verify(badHex, verifier: verifier, now: Date()), containing: "not hexadecimal")
    }

    @Test func signedNonManifestIsRejected() async throws {
        let key = try SigningKey(path: Self.compat("pki/rsa-signing.key.pem"))
        let cert = try String(contentsOfFile: Self.compat("pki/rsa-signing.cert.pem"), encoding: .utf8)
        let data = try SignedManifest.sign(inner: "{\"hello\": 1}", key: key, certificate: cert, otherCertificates: [])
        Self.expectRejected(
            await SignedManifest.verify(data, verifier: try Self.verifier("root.cert.pem"), now: Date()), containing: "not a manifest")
    }
}
