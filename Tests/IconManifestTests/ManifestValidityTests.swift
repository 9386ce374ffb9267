import Foundation
import IconCore
import IconPKI
import IconTestSupport
import Testing

@testable import IconManifest

/// `expires` and `min_timestamp`: written where Python's sort_keys puts them, set by the
/// publisher from `--expires-in` and `--min-timestamp`, checked by the verifier machines run.
@Suite struct ManifestValidityTests {
    static let images = [
        ManifestImage(timestamp: 1_799_999_999, hash: String(repeating: "a", count: 64), volumeID: "NEW", rollout: 42, size: 7),
        ManifestImage(timestamp: 1_700_000_000, hash: String(repeating: "b", count: 64), volumeID: "OLD", rollout: 0),
    ]

    @Test("expires and min_timestamp sort as Python writes them, and decode back")
    func theFieldsAreEncodedAsPythonSortsThem() throws {
        let manifest = Manifest(timestamp: 1_800_000_000, images: Self.images, expires: 1_802_592_000, minTimestamp: 1_700_000_000)
        let text = manifest.encodedText()
        #expect(text == (try ManifestSizeTests.pythonDump(text)))
        #expect(text.hasPrefix("{\n    \"expires\": 1802592000,\n    \"images\": [\n"))
        #expect(text.hasSuffix("    ],\n    \"min_timestamp\": 1700000000,\n    \"timestamp\": 1800000000\n}\n"))
        #expect(try Manifest.decode(Data(text.utf8), source: "t") == manifest)
        // Without them the text is the original's, byte for byte.
        let plain = Manifest(timestamp: 1_800_000_000, images: Self.images)
        #expect(!plain.encodedText().contains("expires") && !plain.encodedText().contains("min_timestamp"))
        #expect(plain.encodedText() == (try ManifestSizeTests.pythonDump(plain.encodedText())))
    }

    @Test(arguments: [
        ("\"expires\": -1", "\"expires\" is negative"),
        ("\"min_timestamp\": -5", "\"min_timestamp\" is negative"),
        ("\"expires\": \"soon\"", "expires"),
        ("\"expires\": 1e400", "not valid JSON"),
    ])
    func badValuesAreRefusedNamingTheField(field: String, phrase: String) throws {
        let text = "{\"images\": [], \(field), \"timestamp\": 1}"
        let error = expectIconError(.malformed) { try Manifest.decode(Data(text.utf8), source: "m.json") }
        #expect(error?.message.contains(phrase) == true, "\(error?.message ?? "")")
        #expect(error?.message.contains("m.json") == true)
    }

    @Test(arguments: [
        ("90s", 90), ("45m", 2_700), ("12h", 43_200), ("7d", 604_800), ("2w", 1_209_600), ("30d", 2_592_000),
    ])
    func lifetimesParse(text: String, seconds: Int) throws {
        #expect(try ManifestValidity.parseLifetime(text) == seconds)
    }

    @Test func neverMeansNoExpiry() throws {
        #expect(try ManifestValidity.parseLifetime("never") == nil)
    }

    @Test(arguments: ["", "7", "d", "0d", "-1d", "1.5d", "7D", "7 d", "１d", "99999999999999999w", "20000000w"])
    func badLifetimesAreRefusedNamingTheFlag(text: String) {
        let error = expectIconError(.invalidArgument) { try ManifestValidity.parseLifetime(text) }
        #expect(error?.message.hasPrefix("--expires-in ") == true, "\(error?.message ?? "")")
    }

    @Test func publishWritesExpiresAndTheVerifierRefusesItFromThatSecond() async throws {
        try await withTemporaryDirectory { dir in
            let setup = try PublisherTests.Setup(dir)
            let now = Date()
            let result = try await Publisher.publish(
                imageDir: setup.images, certPath: setup.pki.signer.certPath, keyPath: setup.pki.signer.keyPath,
                otherCertPaths: [setup.pki.chainPath], validity: ManifestValidity(lifetime: 3_600), now: now)
            let expires = try #require(result.manifest.expires)
            #expect(expires == Int(now.timeIntervalSince1970.rounded(.down)) + 3_600)
            let signed = try DemoImages.read(setup.signed)
            let verifier = ChainVerifier(roots: [setup.pki.root.certificate])
            let before = await SignedManifest.verify(signed, verifier: verifier, now: Date(timeIntervalSince1970: TimeInterval(expires - 1)))
            #expect(before.manifest?.expires == expires)
            let at = await SignedManifest.verify(signed, verifier: verifier, now: Date(timeIntervalSince1970: TimeInterval(expires)))
            #expect(at.rejectionCode == .expired)
            guard case .rejected(let reason) = at else { return }
            #expect(reason.hasPrefix("expired: the manifest expired at "))
            #expect(reason.hasSuffix("the publisher must sign it again (icon publish or icon rollout), or this machine's clock is wrong"))
        }
    }

    @Test func publishingAgainExtendsTheExpiryWithoutHashingAgain() async throws {
        try await withTemporaryDirectory { dir in
            let setup = try PublisherTests.Setup(dir)
            let first = Date()
            func publish(at now: Date) async throws -> Publisher.Result {
                try await Publisher.publish(
                    imageDir: setup.images, certPath: setup.pki.signer.certPath, keyPath: setup.pki.signer.keyPath,
                    otherCertPaths: [setup.pki.chainPath], validity: ManifestValidity(lifetime: 86_400), now: now)
            }
            let one = try await publish(at: first)
            let two = try await publish(at: first.addingTimeInterval(7_200))
            #expect(try #require(two.manifest.expires) == (try #require(one.manifest.expires)) + 7_200)
            #expect(two.sources.values.allSatisfy { $0 == .kept })
            // icon rollout re-signs with a new expiry too.
            let image = try #require(two.manifest.images.first)
            let rolled = try await Publisher.setRollout(
                imageDir: setup.images, timestamp: image.timestamp, rollout: 10_000, certPath: setup.pki.signer.certPath,
                keyPath: setup.pki.signer.keyPath, otherCertPaths: [setup.pki.chainPath],
                validity: ManifestValidity(lifetime: 600), now: first.addingTimeInterval(9_000))
            #expect(rolled.expires == Int(first.timeIntervalSince1970.rounded(.down)) + 9_600)
        }
    }

    @Test func theFloorIsKeptByLaterPublishesAndRefusedWhenItWouldFall() async throws {
        try await withTemporaryDirectory { dir in
            let setup = try PublisherTests.Setup(dir)
            func publish(floor: Int?) async throws -> Publisher.Result {
                try await Publisher.publish(
                    imageDir: setup.images, certPath: setup.pki.signer.certPath, keyPath: setup.pki.signer.keyPath,
                    otherCertPaths: [setup.pki.chainPath], validity: ManifestValidity(lifetime: nil, minTimestamp: floor),
                    now: Date())
            }
            #expect(try await publish(floor: 1_459_629_717).manifest.minTimestamp == 1_459_629_717)
            #expect(try await publish(floor: nil).manifest.minTimestamp == 1_459_629_717)
            let before = try DemoImages.read(setup.signed)
            let lower = await expectIconError(.invalidArgument) { try await publish(floor: 1_459_629_471) }
            #expect(lower?.message == "--min-timestamp 1459629471 is below the floor 1459629717 that \(setup.images)/"
                + "manifest.json.unsigned already has; a floor only rises (machines keep the highest they saw)")
            let above = await expectIconError(.invalidArgument) { try await publish(floor: 1_900_000_000) }
            #expect(above?.message == "--min-timestamp 1900000000 is newer than every image in \(setup.images) "
                + "(the newest is 1700000000); machines would have no image to switch to")
            await expectIconError(.invalidArgument) { try await publish(floor: -1) }
            #expect(try DemoImages.read(setup.signed) == before, "a refused publish wrote the manifest")
            #expect(try await publish(floor: 1_700_000_000).manifest.minTimestamp == 1_700_000_000)
        }
    }
}
