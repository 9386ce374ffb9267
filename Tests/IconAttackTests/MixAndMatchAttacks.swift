import Foundation
import IconCore
import IconManifest
import IconTestSupport
import IconUpdate
import Testing
import X509

/// An attacker combines pieces of validly signed manifests and images.
@Suite("Attacks: mix and match")
struct MixAndMatchAttacks {
    @Test func anImageServedUnderAnotherImagesNameIsRefused() async throws {
        try await AttackBench.with { bench in
            try await bench.start()
            try bench.publish(1100, images: [300, 200])
            bench.repository.serve("300.iso", bench.iso(200))
            try await bench.refused(.hashMismatch, "300.iso")
        }
    }

    @Test func theSignatureOfAnotherManifestIsRefused() async throws {
        try await AttackBench.with { bench in
            try await bench.start()
            let other = try JSONSerialization.jsonObject(with: try bench.signed(1100, [bench.entry(200)])) as? [String: Any]
            let wanted = try bench.signed(1200, [bench.entry(300)])
            bench.publish(try bench.rewritten(wanted) { $0["sig"] = other?["sig"] }, images: [300])
            try await bench.refused(.badSignature)
        }
    }

    @Test func anotherTrustedSignersCertificateOverThisSignatureIsRefused() async throws {
        try await AttackBench.with { bench in
            try await bench.start()
            let second = try bench.pki.issueLeaf(name: "Second Signer", file: "second", usages: [.codeSigning])
            let signed = try bench.signed(1100, [bench.entry(200)])
            let cert = try bench.pem(second.certificate)
            bench.publish(try bench.rewritten(signed) { $0["cert"] = cert }, images: [200])
            try await bench.refused(.badSignature)
        }
    }

    @Test func aSignatureListFromAnotherManifestDoesNotCount() async throws {
        // Two signers signed manifest 1100; the attacker graft their list onto 1200, which only
        // one of them signed.
        try await AttackBench.with { bench in
            try await bench.start()
            let second = try bench.pki.issueLeaf(name: "Second Signer", file: "second", usages: [.codeSigning])
            let both = try [bench.signer(), bench.signer(second)]
            let old = try JSONSerialization.jsonObject(with: try bench.signed(1100, [bench.entry(100)], signers: both))
                as? [String: Any]
            let newer = try bench.signed(1200, [bench.entry(200)])
            bench.publish(try bench.rewritten(newer) { $0["signatures"] = old?["signatures"] }, images: [200])
            try await bench.refused(.untrusted, "too few signatures") { $0.signatureThreshold = 2 }
        }
    }

    @Test func aHashTakenFromAnotherManifestIsRefused() async throws {
        // The manifest's entry for 300 carries 200's hash (the signer copied an entry, or an
        // older manifest's): what arrives for 300 does not match, and nothing is installed.
        try await AttackBench.with { bench in
            try await bench.start()
            var entry = bench.entry(300)
            entry.hash = bench.entry(200).hash
            bench.publish(try bench.signed(1100, [entry]), images: [300])
            try await bench.refused(.hashMismatch)
        }
    }
}
