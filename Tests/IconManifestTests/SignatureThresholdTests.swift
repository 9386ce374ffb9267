import Foundation
import IconCore
import IconPKI
import IconTestSupport
import Testing
import X509

@testable import IconManifest

/// k-of-n signing: several signers write every signature into the wrapper (the first also
/// where the original looks), and a machine with a threshold counts valid signatures of
/// distinct signers (certificate and key), each chained to its roots.
@Suite struct SignatureThresholdTests {
    /// The demo ISOs and a test PKI with two more signers, one from another CA.
    struct Setup {
        let base: PublisherTests.Setup
        let second: TestPKI.Identity
        let third: TestPKI.Identity
        let foreign: TestPKI.Identity
        var pki: TestPKI { base.pki }
        var verifier: ChainVerifier { ChainVerifier(roots: [pki.root.certificate]) }

        init(_ dir: TemporaryDirectory) throws {
            base = try PublisherTests.Setup(dir)
            second = try base.pki.issueLeaf(name: "Second Signer", file: "signer2", usages: [.codeSigning])
            third = try base.pki.issueLeaf(name: "Third Signer", file: "signer3", usages: [.codeSigning])
            foreign = try TestPKI(directory: dir.join("other-pki")).signer
        }

        func paths(_ identities: [TestPKI.Identity]) -> [Publisher.SignerPaths] {
            identities.map { Publisher.SignerPaths(certPath: $0.certPath, keyPath: $0.keyPath) }
        }

        func publish(coSigners: [TestPKI.Identity]) async throws -> Publisher.Result {
            try await Publisher.publish(
                imageDir: base.images, certPath: pki.signer.certPath, keyPath: pki.signer.keyPath,
                otherCertPaths: [pki.chainPath], coSigners: paths(coSigners), now: Date())
        }

        func signed() throws -> Data { try DemoImages.read(base.signed) }

        func verify(_ data: Data, threshold: Int) async -> ManifestVerdict {
            await SignedManifest.verify(data, verifier: verifier, now: Date(), threshold: threshold)
        }

        /// The wrapper's JSON object, to edit.
        func wrapper() throws -> [String: Any] {
            try #require(try JSONSerialization.jsonObject(with: signed()) as? [String: Any])
        }
    }

    static func reason(_ verdict: ManifestVerdict) -> String {
        if case .rejected(let reason) = verdict { return reason }
        return "verified"
    }

    @Test func twoSignersWriteBothSignaturesAndTheFirstWhereTheOriginalLooks() async throws {
        try await withTemporaryDirectory { dir in
            let setup = try Setup(dir)
            _ = try await setup.publish(coSigners: [setup.second])
            let text = String(decoding: try setup.signed(), as: UTF8.self)
            #expect(text == (try ManifestSizeTests.pythonDump(text)), "the wrapper is not as Python's json.dumps writes it")
            let wrapper = try setup.wrapper()
            let signatures = try #require(wrapper["signatures"] as? [[String: Any]])
            #expect(signatures.count == 2)
            #expect(signatures[0]["sig"] as? String == wrapper["sig"] as? String)
            #expect(signatures[0]["cert"] as? String == wrapper["cert"] as? String)
            #expect(signatures[1]["other_certs"] as? [String] == wrapper["other_certs"] as? [String])
            // The original's check (the top-level signature) and both thresholds pass.
            for threshold in [1, 2] {
                let verdict = await setup.verify(try setup.signed(), threshold: threshold)
                #expect(verdict.manifest != nil, "threshold \(threshold): \(Self.reason(verdict))")
            }
            let three = await setup.verify(try setup.signed(), threshold: 3)
            #expect(three.rejectionCode == .untrusted)
            #expect(Self.reason(three) == "too few signatures: 2 valid signature(s) of distinct signers, --signature-threshold 3 needs 3")
        }
    }

    @Test func oneSignerWritesTheOriginalsWrapperWhichAThresholdOfTwoRefuses() async throws {
        try await withTemporaryDirectory { dir in
            let setup = try Setup(dir)
            _ = try await setup.publish(coSigners: [])
            #expect(try setup.wrapper()["signatures"] == nil)
            let verdict = await setup.verify(try setup.signed(), threshold: 2)
            #expect(verdict.rejectionCode == .untrusted)
            #expect(Self.reason(verdict).hasPrefix("too few signatures: 1 valid signature(s) of distinct signers, --signature-threshold 2 needs 2"))
        }
    }

    @Test func theSameSignerTwiceCountsOnce() async throws {
        try await withTemporaryDirectory { dir in
            let setup = try Setup(dir)
            _ = try await setup.publish(coSigners: [])
            // A second signature by the same key (ECDSA signatures differ each time).
            var wrapper = try setup.wrapper()
            let inner = try #require(wrapper["inner"] as? String)
            let again = try SigningKey(path: setup.pki.signer.keyPath).sign(Data(inner.utf8)).hexString
            #expect(again != wrapper["sig"] as? String)
            wrapper["signatures"] = [
                ["cert": wrapper["cert"]!, "other_certs": wrapper["other_certs"]!, "sig": wrapper["sig"]!],
                ["cert": wrapper["cert"]!, "other_certs": wrapper["other_certs"]!, "sig": again],
            ]
            let data = try JSONSerialization.data(withJSONObject: wrapper)
            let verdict = await setup.verify(data, threshold: 2)
            #expect(verdict.rejectionCode == .untrusted)
            #expect(Self.reason(verdict).contains("signatures[1]: CN=Test Manifest Signer,O=Iconograph Test signed already"), "\(Self.reason(verdict))")
        }
    }

    @Test func aSignatureFromAnotherCAOrABadOneDoesNotCount() async throws {
        try await withTemporaryDirectory { dir in
            let setup = try Setup(dir)
            _ = try await setup.publish(coSigners: [setup.second, setup.third])
            var wrapper = try setup.wrapper()
            var signatures = try #require(wrapper["signatures"] as? [[String: Any]])
            // The third signature replaced by one of a signer the machines do not trust, the
            // second spoiled: one valid signature is left.
            let inner = try #require(wrapper["inner"] as? String)
            signatures[2] = [
                "cert": try String(contentsOfFile: setup.foreign.certPath, encoding: .utf8), "other_certs": [String](),
                "sig": try SigningKey(path: setup.foreign.keyPath).sign(Data(inner.utf8)).hexString,
            ]
            let good = try #require(signatures[1]["sig"] as? String)
            signatures[1]["sig"] = String(good.dropLast(2)) + (good.hasSuffix("00") ? "01" : "00")
            wrapper["signatures"] = signatures
            let data = try JSONSerialization.data(withJSONObject: wrapper)
            let two = await setup.verify(data, threshold: 2)
            #expect(two.rejectionCode == .untrusted)
            let reason = Self.reason(two)
            #expect(reason.hasPrefix("too few signatures: 1 valid signature(s) of distinct signers, --signature-threshold 2 needs 2 ("))
            #expect(reason.contains("signatures[1]: bad signature: the manifest's inner text was not signed by CN=Second Signer"), "\(reason)")
            #expect(reason.contains("signatures[2]: untrusted signer: "), "\(reason)")
            #expect(await setup.verify(data, threshold: 1).manifest != nil)
        }
    }

    @Test func moreSignaturesThanAManifestMayCarryAreRefusedBeforeAnyIsChecked() async throws {
        try await withTemporaryDirectory { dir in
            let setup = try Setup(dir)
            _ = try await setup.publish(coSigners: [setup.second])
            var wrapper = try setup.wrapper()
            let signatures = try #require(wrapper["signatures"] as? [[String: Any]])
            wrapper["signatures"] = Array(repeating: signatures[1], count: SignedManifest.maxSignatures + 1)
            let verdict = await setup.verify(try JSONSerialization.data(withJSONObject: wrapper), threshold: 2)
            #expect(verdict.rejectionCode == .malformed)
            #expect(Self.reason(verdict) == "not a signed manifest: too many signatures: 9, at most 8")
        }
    }

    @Test func aSecondSignerAddsASignatureToThePublishedManifest() async throws {
        try await withTemporaryDirectory { dir in
            let setup = try Setup(dir)
            let published = try await setup.publish(coSigners: [])
            let added = try await Publisher.addSignatures(
                imageDir: setup.base.images, certPath: setup.second.certPath, keyPath: setup.second.keyPath,
                otherCertPaths: [setup.pki.chainPath], caCertPath: setup.pki.root.certPath, now: Date())
            #expect(added.signatures == 2)
            #expect(added.manifest == published.manifest)
            let verdict = await setup.verify(try setup.signed(), threshold: 2)
            #expect(verdict.manifest == published.manifest, "\(Self.reason(verdict))")
            let text = String(decoding: try setup.signed(), as: UTF8.self)
            #expect(text == (try ManifestSizeTests.pythonDump(text)))
            // The same signer again is refused and the file stays.
            let before = try setup.signed()
            let twice = await expectIconError(.invalidArgument) {
                try await Publisher.addSignatures(
                    imageDir: setup.base.images, certPath: setup.second.certPath, keyPath: setup.second.keyPath,
                    otherCertPaths: [setup.pki.chainPath], caCertPath: setup.pki.root.certPath, now: Date())
            }
            #expect(twice?.message == "\(setup.base.signed) is already signed by CN=Second Signer,O=Iconograph Test")
            #expect(try setup.signed() == before)
        }
    }

    @Test func aSignerGivenTwiceIsRefusedBeforeAnythingIsWritten() async throws {
        try await withTemporaryDirectory { dir in
            let setup = try Setup(dir)
            let error = await expectIconError(.invalidArgument) { try await setup.publish(coSigners: [setup.pki.signer]) }
            #expect(error?.message.contains("are the same signer (one certificate or key)") == true, "\(error?.message ?? "")")
            #expect(!FileManager.default.fileExists(atPath: setup.base.signed))
        }
    }

    @Test func aCoSignerTheMachinesDoNotTrustIsRefusedNamingItsFile() async throws {
        try await withTemporaryDirectory { dir in
            let setup = try Setup(dir)
            let error = await expectIconError(.untrusted) { try await setup.publish(coSigners: [setup.foreign]) }
            #expect(error?.message.contains(setup.foreign.certPath) == true, "\(error?.message ?? "")")
            #expect(!FileManager.default.fileExists(atPath: setup.base.signed))
        }
    }
}
