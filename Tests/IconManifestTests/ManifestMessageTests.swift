import Foundation
import IconCore
import IconPKI
import IconTestSupport
import Testing

@testable import IconManifest

/// Manifest errors are one sentence naming the file and the field, with no decoder internals.
@Suite struct ManifestMessageTests {
    static func expectClean(_ text: String, sourceLocation: SourceLocation = #_sourceLocation) {
        for leak in ["CodingKeys", "stringValue", "intValue", "Context(", "debugDescription", "\n"] {
            #expect(!text.contains(leak), "\(text)", sourceLocation: sourceLocation)
        }
    }

    static func reason(_ verdict: ManifestVerdict) -> String? {
        if case .rejected(let reason) = verdict { return reason }
        return nil
    }

    @Test func unsignedManifestIsNamedAsSuch() async throws {
        let verifier = try ChainVerifier(rootsFile: CompatVectors.path("pki/root.cert.pem"))
        let unsigned = try DemoImages.read(CompatVectors.path("images/demo/manifest.json.unsigned"))
        #expect(SignedManifest.isUnsignedManifest(unsigned))
        #expect(!SignedManifest.isUnsignedManifest(try DemoImages.read(CompatVectors.path("images/demo/manifest.json"))))
        let verdict = await SignedManifest.verify(unsigned, verifier: verifier, now: Date())
        let reason = try #require(Self.reason(verdict))
        #expect(reason == "not a signed manifest: this is an unsigned manifest (manifest.json.unsigned), without cert, sig and inner")
        #expect(verdict.rejectionCode == .malformed)
    }

    @Test(arguments: [
        ("{\"cert\": \"x\"}", "not a signed manifest (expected JSON with cert, sig and inner): \"sig\" is missing"),
        ("[1, 2]", "not a signed manifest (expected JSON with cert, sig and inner): it is not a JSON object"),
        ("not json", "not a signed manifest (expected JSON with cert, sig and inner): it is not valid JSON"),
        ("{\"cert\": 1, \"sig\": \"00\", \"inner\": \"{}\"}", "not a signed manifest (expected JSON with cert, sig and inner): \"cert\" is not a string"),
    ])
    func wrapperProblemsNameTheField(json: String, expected: String) async throws {
        let verifier = try ChainVerifier(rootsFile: CompatVectors.path("pki/root.cert.pem"))
        let reason = try #require(Self.reason(await SignedManifest.verify(Data(json.utf8), verifier: verifier, now: Date())))
        #expect(reason == expected)
        Self.expectClean(reason)
    }

    @Test(arguments: [
        ("{\"images\": 3, \"timestamp\": 1}", "/x/manifest.json.unsigned is not a valid manifest: \"images\" is not a list"),
        ("{\"images\": [{\"hash\": \"a\"}], \"timestamp\": 1}", "/x/manifest.json.unsigned is not a valid manifest: \"images[0].timestamp\" is missing"),
        ("{\"images\": [], \"timestamp\": null}", "/x/manifest.json.unsigned is not a valid manifest: \"timestamp\" is null"),
        ("{", "/x/manifest.json.unsigned is not a valid manifest: it is not valid JSON"),
    ])
    func innerProblemsNameTheFileAndField(json: String, expected: String) throws {
        let error = try #require(throws: IconError.self) { try Manifest.decode(Data(json.utf8), source: "/x/manifest.json.unsigned") }
        #expect(error.code == .malformed)
        #expect(error.message == expected)
        #expect(error.description == "malformed: \(expected)")
    }

    @Test func signedNonManifestSaysWhichField() async throws {
        let key = try SigningKey(path: CompatVectors.path("pki/rsa-signing.key.pem"))
        let cert = try String(contentsOfFile: CompatVectors.path("pki/rsa-signing.cert.pem"), encoding: .utf8)
        let data = try SignedManifest.sign(inner: "{\"hello\": 1}", key: key, certificate: cert, otherCertificates: [])
        let verifier = try ChainVerifier(rootsFile: CompatVectors.path("pki/root.cert.pem"))
        let reason = try #require(Self.reason(await SignedManifest.verify(data, verifier: verifier, now: Date())))
        #expect(reason == "signed content is not a manifest: \"timestamp\" is missing")
    }

    @Test func brokenPreviousManifestNamesTheFileAndTheWayOut() async throws {
        try await withTemporaryDirectory { dir in
            try DemoImages.copy(into: dir.path)
            try Data("{\"images\": {}, \"timestamp\": 1}".utf8).write(to: URL(fileURLWithPath: dir.join("manifest.json.unsigned")))
            let error = try #require(throws: IconError.self) { try ManifestBuilder(imageDirectory: dir.path).build(now: Date()) }
            #expect(error.code == .malformed)
            #expect(error.message.hasPrefix("\(dir.join("manifest.json.unsigned")) is not a valid manifest: \"images\" is not a list"))
            #expect(error.message.hasSuffix("move it away to start over (every image then gets --default-rollout)"))
            Self.expectClean(error.description)
        }
    }
}
