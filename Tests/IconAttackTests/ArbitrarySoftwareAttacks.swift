import Foundation
import IconCore
import IconManifest
import IconPKI
import IconTestSupport
import IconUpdate
import Testing
import X509

/// An attacker who controls the repository but holds no key the machine trusts (or only a
/// key it must not trust for this) tries to install software of its own.
@Suite("Attacks: arbitrary software")
struct ArbitrarySoftwareAttacks {
    @Test func aForgedSignatureIsRefused() async throws {
        try await AttackBench.with { bench in
            try await bench.start()
            let signed = try bench.signed(1100, [bench.entry(200)])
            bench.publish(
                try bench.rewritten(signed) { wrapper in
                    let sig = wrapper["sig"] as? String ?? ""
                    wrapper["sig"] = String(sig.prefix(20)) + (sig.dropFirst(20).first == "0" ? "1" : "0") + sig.dropFirst(21)
                }, images: [200])
            try await bench.refused(.badSignature, "\(bench.manifestURL) rejected")
        }
    }

    @Test func aManifestChangedAfterSigningIsRefused() async throws {
        try await AttackBench.with { bench in
            try await bench.start()
            let signed = try bench.signed(1100, [bench.entry(200)])
            let evil = Manifest(timestamp: 1100, images: [bench.entry(666)]).encodedText()
            bench.publish(try bench.rewritten(signed) { $0["inner"] = evil }, images: [666])
            try await bench.refused(.badSignature)
            #expect(bench.repository.requests("666.iso") == 0, "the unverified image was downloaded")
        }
    }

    @Test func aSignerOfALookalikeCAIsRefused() async throws {
        // Another CA with the very same names ("Test Root CA", "Test Intermediate CA", the
        // signer's), but its own keys.
        try await AttackBench.with { bench in
            try await bench.start()
            let lookalike = try TestPKI(directory: bench.temp.join("lookalike"), now: bench.now)
            let signer = try bench.signer(lookalike.signer, chain: [lookalike.chainPath])
            bench.publish(try bench.signed(1100, [bench.entry(200)], signers: [signer]), images: [200])
            try await bench.refused(.untrusted, "rejected")
        }
    }

    @Test func aSignerThatLeavesOutItsIntermediateIsRefused() async throws {
        try await AttackBench.with { bench in
            try await bench.start()
            let signer = try bench.signer(chain: [])
            bench.publish(try bench.signed(1100, [bench.entry(200)], signers: [signer]), images: [200])
            try await bench.refused(.untrusted)
        }
    }

    @Test func aServerCertificateCannotSignManifests() async throws {
        // The server's key is the first one an attacker of the repository gets.
        try await AttackBench.with { bench in
            try await bench.start()
            let signer = try bench.signer(bench.pki.server)
            bench.publish(try bench.signed(1100, [bench.entry(200)], signers: [signer]), images: [200])
            try await bench.refused(.untrusted)
        }
    }

    @Test func aDeviceCertificateCannotSignManifests() async throws {
        // Every machine holds a device key: one stolen robot must not sign for the fleet.
        try await AttackBench.with { bench in
            try await bench.start()
            let signer = try bench.signer(bench.pki.device)
            bench.publish(try bench.signed(1100, [bench.entry(200)], signers: [signer]), images: [200])
            try await bench.refused(.untrusted)
        }
    }

    @Test func aCACannotSignManifests() async throws {
        try await AttackBench.with { bench in
            try await bench.start()
            let signer = try bench.signer(bench.pki.intermediate, chain: [])
            bench.publish(try bench.signed(1100, [bench.entry(200)], signers: [signer]), images: [200])
            try await bench.refused(.untrusted)
        }
    }

    @Test func anExpiredSignerCertificateIsRefused() async throws {
        try await AttackBench.with { bench in
            try await bench.start()
            let old = try bench.pki.issueLeaf(
                name: "Old Signer", file: "old", usages: [.codeSigning],
                notValidBefore: bench.now.addingTimeInterval(-86_400 * 400), notValidAfter: bench.now.addingTimeInterval(-1))
            bench.publish(try bench.signed(1100, [bench.entry(200)], signers: [bench.signer(old)]), images: [200])
            try await bench.refused(.untrusted)
        }
    }

    @Test func aSignerCertificateNotYetValidIsRefused() async throws {
        try await AttackBench.with { bench in
            try await bench.start()
            let early = try bench.pki.issueLeaf(
                name: "Early Signer", file: "early", usages: [.codeSigning],
                notValidBefore: bench.now.addingTimeInterval(3_600), notValidAfter: bench.now.addingTimeInterval(86_400))
            bench.publish(try bench.signed(1100, [bench.entry(200)], signers: [bench.signer(early)]), images: [200])
            try await bench.refused(.untrusted)
        }
    }

    @Test func aRevokedSignerIsRefused() async throws {
        try await AttackBench.with { bench in
            try await bench.start()
            let list = try bench.revocationList(number: 1, revoking: [bench.pki.signer.certificate])
            try bench.publish(1100, images: [200], crls: [list])
            try await bench.refused(.revoked, "is revoked by CRL number 1", changing: ["revocations.pem"])
        }
    }

    @Test func aRevokedSignerIsRefusedWhenTheAttackerLeavesTheListOut() async throws {
        try await AttackBench.with { bench in
            try await bench.start()
            // A second signer's manifest brings the list revoking the first.
            let second = try bench.pki.issueLeaf(name: "Second Signer", file: "second", usages: [.codeSigning])
            let list = try bench.revocationList(number: 1, revoking: [bench.pki.signer.certificate])
            bench.publish(
                try bench.signed(1100, [bench.entry(100)], signers: [bench.signer(second)], crls: [list]), images: [100])
            _ = try await bench.fetch()
            // The stolen key signs a newer manifest, without the list.
            try bench.publish(1200, images: [200])
            try await bench.refused(.revoked)
        }
    }

    @Test func aSignerUnderARevokedIntermediateIsRefused() async throws {
        try await AttackBench.with { bench in
            try await bench.start()
            let list = try bench.revocationList(number: 1, revoking: [bench.pki.intermediate.certificate], by: bench.pki.root)
            try bench.publish(1100, images: [200], crls: [list])
            try await bench.refused(.revoked, changing: ["revocations.pem"])
        }
    }

    @Test func oneSignatureIsTooFewWhenTwoAreRequired() async throws {
        try await AttackBench.with { bench in
            try await bench.start()
            try bench.publish(1100, images: [200])
            try await bench.refused(.untrusted, "too few signatures") { $0.signatureThreshold = 2 }
        }
    }

    @Test func theSameSignerTwiceCountsOnce() async throws {
        try await AttackBench.with { bench in
            try await bench.start()
            let signing = try bench.signer().signing
            let inner = Manifest(timestamp: 1100, images: [bench.entry(200)]).encodedText()
            bench.publish(try SignedManifest.sign(inner: inner, signers: [signing, signing]), images: [200])
            try await bench.refused(.untrusted, "too few signatures") { $0.signatureThreshold = 2 }
        }
    }

    @Test func oneKeyInTwoCertificatesCountsOnce() async throws {
        try await AttackBench.with { bench in
            try await bench.start()
            let twin = try bench.reissued(bench.pki.signer, name: "Twin Signer")
            let signers = [
                try bench.signer(),
                try ManifestSigner(certPath: twin.certPath, keyPath: twin.keyPath, otherCertPaths: [bench.pki.chainPath]),
            ]
            bench.publish(try bench.signed(1100, [bench.entry(200)], signers: signers), images: [200])
            try await bench.refused(.untrusted, "too few signatures") { $0.signatureThreshold = 2 }
        }
    }

    @Test func moreSignaturesThanAllowedAreRefusedUnchecked() async throws {
        try await AttackBench.with { bench in
            try await bench.start()
            let signing = try bench.signer().signing
            let inner = Manifest(timestamp: 1100, images: [bench.entry(200)]).encodedText()
            let many = Array(repeating: signing, count: SignedManifest.maxSignatures + 1)
            bench.publish(try SignedManifest.sign(inner: inner, signers: many), images: [200])
            // With the original's single check too: the list is refused unread.
            try await bench.refused(.malformed, "too many signatures: 9, at most 8")
        }
    }

    @Test func anImageThatIsNotTheSignedOneIsRefused() async throws {
        try await AttackBench.with { bench in
            try await bench.start()
            try bench.publish(1100, images: [200])
            var evil = bench.iso(200)
            evil[evil.count - 1] ^= 0xFF
            bench.repository.serve("200.iso", evil)
            try await bench.refused(.hashMismatch, "200.iso has SHA-256")
        }
    }

    @Test func anUnsignedManifestIsRefused() async throws {
        try await AttackBench.with { bench in
            try await bench.start()
            bench.publish(Manifest(timestamp: 1100, images: [bench.entry(200)]).encoded(), images: [200])
            try await bench.refused(.malformed)
        }
    }
}
