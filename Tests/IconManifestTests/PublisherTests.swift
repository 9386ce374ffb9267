import Foundation
import IconCore
import IconPKI
import IconTestSupport
import Testing

@testable import IconManifest

@Suite struct PublisherTests {
    /// A temp dir with the demo ISOs in `images/` and a test PKI in `pki/`.
    struct Setup {
        let dir: TemporaryDirectory
        let pki: TestPKI
        var images: String { dir.join("images") }
        var signed: String { dir.join("images/manifest.json") }
        var unsigned: String { dir.join("images/manifest.json.unsigned") }

        init(_ dir: TemporaryDirectory) throws {
            self.dir = dir
            pki = try TestPKI(directory: dir.join("pki"))
            try FileManager.default.createDirectory(atPath: dir.join("images"), withIntermediateDirectories: true)
            try DemoImages.copy(into: dir.join("images"))
        }

        func publish(defaultRollout: Int = 2500, maxImages: Int = 0, now: Date = Date(), keyPath: String? = nil) async throws -> Publisher.Result {
            try await Publisher.publish(
                imageDir: images, certPath: pki.signer.certPath, keyPath: keyPath ?? pki.signer.keyPath,
                otherCertPaths: [pki.chainPath], defaultRollout: defaultRollout, maxImages: maxImages, now: now)
        }

        func verify() async throws -> ManifestVerdict {
            await SignedManifest.verify(
                try DemoImages.read(signed), verifier: ChainVerifier(roots: [pki.root.certificate]), now: Date())
        }
    }

    @Test func publishThenVerifyRoundTrip() async throws {
        try await withTemporaryDirectory { dir in
            let setup = try Setup(dir)
            let result = try await setup.publish()
            let verdict = try await setup.verify()
            guard case .verified(let manifest, let signer) = verdict else {
                Issue.record("rejected: \(verdict)")
                return
            }
            #expect(manifest == result.manifest)
            #expect(signer == setup.pki.signer.certificate)
            #expect(result.rootsPath == setup.pki.root.certPath)
            #expect(result.skipped.isEmpty)
            // The unsigned file is the signed inner text, and what the original would have written
            // for these images (its timestamp aside: the signer is checked at the real time).
            #expect(try DemoImages.read(setup.unsigned) == result.manifest.encoded())
            #expect(
                Manifest(timestamp: 1_795_747_935, images: result.manifest.images.map(\.withoutSize)).encoded()
                    == (try DemoImages.read(CompatVectors.path("images/demo/manifest.json.unsigned"))))
            for path in [setup.signed, setup.unsigned] {
                let mode = try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int
                #expect(mode == 0o644)
            }
            // Only the manifests and the ISOs: no temp files left behind.
            let names = try FileManager.default.contentsOfDirectory(atPath: setup.images).sorted()
            #expect(names == ["1459629471.iso", "1459629717.iso", "1700000000.iso", "manifest.json", "manifest.json.unsigned"])
        }
    }

    /// `kill -9` of a publish mid-write leaves `.manifest.json.unsigned.tmp-<pid>-XXXXXX`;
    /// the next publish removes it (its writer is gone), not a running writer's.
    @Test func theNextPublishRemovesTempFilesOfAKilledOne() async throws {
        try await withTemporaryDirectory { dir in
            let setup = try Setup(dir)
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/bin/true")
            try process.run()
            process.waitUntilExit()
            let stale = [".manifest.json.unsigned.tmp-\(process.processIdentifier)-AbC123", ".manifest.json.tmp-\(process.processIdentifier)-XyZ789"]
            let running = ".manifest.json.tmp-1-Qwe456"
            for name in stale + [running] {
                try Data("half a manifest".utf8).write(to: URL(fileURLWithPath: "\(setup.images)/\(name)"))
            }
            _ = try await setup.publish()
            let names = try FileManager.default.contentsOfDirectory(atPath: setup.images).sorted()
            #expect(names == [running, "1459629471.iso", "1459629717.iso", "1700000000.iso", "manifest.json", "manifest.json.unsigned"])
        }
    }

    @Test func twoPublishesInOneSecondIncreaseTheTimestamp() async throws {
        try await withTemporaryDirectory { dir in
            let setup = try Setup(dir)
            let now = Date()
            let first = try await setup.publish(now: now)
            let second = try await setup.publish(now: now)
            #expect(second.manifest.timestamp > first.manifest.timestamp)
            #expect(second.sources.values.allSatisfy { $0 == .kept })
            #expect(try await setup.verify().manifest?.timestamp == second.manifest.timestamp)
        }
    }

    @Test func maxImagesDeletesAfterWriting() async throws {
        try await withTemporaryDirectory { dir in
            let setup = try Setup(dir)
            let result = try await setup.publish(maxImages: 1)
            #expect(result.deleted == [setup.dir.join("images/1459629717.iso"), setup.dir.join("images/1459629471.iso")])
            #expect(result.manifest.images.map(\.timestamp) == [1_700_000_000])
            #expect(!FileManager.default.fileExists(atPath: setup.dir.join("images/1459629471.iso")))
            #expect(try await setup.verify().manifest?.images.count == 1)
        }
    }

    @Test(arguments: ["missing.pem", "garbage.pem", "directory"])
    func badKeyFileFailsNamingItAndChangesNothing(keyName: String) async throws {
        try await withTemporaryDirectory { dir in
            let setup = try Setup(dir)
            _ = try await setup.publish(defaultRollout: 100)
            let signedBefore = try DemoImages.read(setup.signed)
            let unsignedBefore = try DemoImages.read(setup.unsigned)
            try DemoImages.add(timestamp: 1_800_000_000, into: setup.images)
            try Data("-----BEGIN PRIVATE KEY-----\nnot base64!\n-----END PRIVATE KEY-----\n".utf8).write(to: URL(fileURLWithPath: dir.join("garbage.pem")))
            try FileManager.default.createDirectory(atPath: dir.join("directory"), withIntermediateDirectories: true)
            let keyPath = dir.join(keyName)
            do {
                _ = try await setup.publish(maxImages: 1, keyPath: keyPath)
                Issue.record("publish with \(keyName) succeeded")
            } catch let error as IconError {
                #expect(error.message.contains(keyPath), "\(error)")
            }
            #expect(try DemoImages.read(setup.signed) == signedBefore)
            #expect(try DemoImages.read(setup.unsigned) == unsignedBefore)
            // max-images did not delete anything either.
            #expect(try FileManager.default.contentsOfDirectory(atPath: setup.images).filter { $0.hasSuffix(".iso") }.count == 4)
        }
    }

    @Test func keyOfAnotherCertificateIsRefused() async throws {
        try await withTemporaryDirectory { dir in
            let setup = try Setup(dir)
            do {
                _ = try await setup.publish(keyPath: setup.pki.device.keyPath)
                Issue.record("publish with a foreign key succeeded")
            } catch let error as IconError {
                #expect(error.code == .badKey)
                #expect(error.message.contains(setup.pki.device.keyPath))
            }
            #expect(!FileManager.default.fileExists(atPath: setup.signed))
        }
    }

    @Test func setRolloutChangesOneImageAndResigns() async throws {
        try await withTemporaryDirectory { dir in
            let setup = try Setup(dir)
            let now = Date()
            let published = try await setup.publish(defaultRollout: 0, now: now)
            let updated = try await Publisher.setRollout(
                imageDir: setup.images, timestamp: 1_459_629_717, rollout: 10_000,
                certPath: setup.pki.signer.certPath, keyPath: setup.pki.signer.keyPath, otherCertPaths: [setup.pki.chainPath], now: now)
            #expect(updated.timestamp > published.manifest.timestamp)
            #expect(updated.images.map(\.rollout) == [0, 10_000, 0])
            let verified = try #require(try await setup.verify().manifest)
            #expect(verified == updated)
            #expect(try Manifest.decode(DemoImages.read(setup.unsigned), source: "unsigned") == updated)
            // A later publish keeps the edited rollout.
            let again = try await setup.publish(defaultRollout: 5000)
            #expect(again.manifest.images.map(\.rollout) == [0, 10_000, 0])
        }
    }

    @Test func setRolloutRefusesUnknownImagesAndBadValues() async throws {
        try await withTemporaryDirectory { dir in
            let setup = try Setup(dir)
            func set(_ timestamp: Int, _ rollout: Int) async throws {
                _ = try await Publisher.setRollout(
                    imageDir: setup.images, timestamp: timestamp, rollout: rollout,
                    certPath: setup.pki.signer.certPath, keyPath: setup.pki.signer.keyPath,
                    otherCertPaths: [setup.pki.chainPath], now: Date())
            }
            await expectIconError(.notFound) { try await set(1_459_629_717, 10) }  // not published yet
            _ = try await setup.publish()
            let before = try DemoImages.read(setup.signed)
            do {
                try await set(1_234_567_890, 10)
                Issue.record("expected not-found")
            } catch let error as IconError {
                #expect(error.code == .notFound)
                #expect(error.message.contains("1234567890"))
            }
            for bad in [-1, 10_001] {
                do {
                    try await set(1_459_629_717, bad)
                    Issue.record("expected invalid-argument for \(bad)")
                } catch let error as IconError {
                    #expect(error.code == .invalidArgument)
                }
            }
            #expect(try DemoImages.read(setup.signed) == before)
        }
    }
}
