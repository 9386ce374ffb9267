import Foundation
import IconCore
import IconManifest
import IconTLS
import IconTestSupport
import IconUpdate
import Testing

/// An attacker sends more than was asked for, to fill the disk or memory.
@Suite("Attacks: endless data")
struct EndlessDataAttacks {
    @Test func aHugeManifestIsRefusedByItsLength() async throws {
        try await AttackBench.with { bench in
            try await bench.start()
            bench.repository.serve("manifest.json", .announcing(64 << 20, Data(repeating: 0x20, count: 1 << 16)))
            try await bench.refused(.tooLarge, "manifest.json is 67108864 bytes, more than the 1048576 allowed")
        }
    }

    @Test func anEndlessManifestIsCutAtTheLimit() async throws {
        try await AttackBench.with { bench in
            try await bench.start()
            bench.repository.serve("manifest.json", .endless(prefix: Data("{\"inner\": \"".utf8)))
            try await bench.refused(.tooLarge, "manifest.json is more than the 1048576 bytes allowed")
        }
    }

    @Test func anImageAnnouncedLongerThanTheManifestSaysIsRefused() async throws {
        try await AttackBench.with { bench in
            try await bench.start()
            let size = bench.iso(200).count
            bench.publish(try bench.signed(1100, [bench.entry(200, size: size)]), images: [])
            bench.repository.serve("200.iso", bench.iso(200) + Data(repeating: 0, count: 1 << 20))
            try await bench.refused(.tooLarge, "but the manifest gives \(size) for this image")
        }
    }

    @Test func anImageSentLongerThanTheManifestSaysIsCut() async throws {
        // No length announced: the bytes past the manifest's size are what gives it away.
        try await AttackBench.with { bench in
            try await bench.start()
            let size = bench.iso(200).count
            bench.publish(try bench.signed(1100, [bench.entry(200, size: size)]), images: [])
            bench.repository.serve("200.iso", .endless(prefix: bench.iso(200)))
            try await bench.refused(.tooLarge, "the manifest says \(size)")
        }
    }

    @Test func anEndlessImageWithoutASizeIsCutAtTheMaximum() async throws {
        try await AttackBench.with { bench in
            try await bench.start()
            bench.publish(try bench.signed(1100, [bench.entry(200)]), images: [])
            bench.repository.serve("200.iso", .endless(prefix: bench.iso(200)))
            try await bench.refused(.tooLarge, "--max-image-bytes") { $0.maxImageBytes = 4 << 20 }
        }
    }

    @Test func anImageShorterThanItsLengthIsNotInstalled() async throws {
        try await AttackBench.with { bench in
            try await bench.start()
            let iso = bench.iso(200)
            bench.publish(try bench.signed(1100, [bench.entry(200)]), images: [])
            bench.repository.serve("200.iso", .announcing(iso.count, iso.prefix(iso.count / 2)))
            try await bench.refused(.truncated, changing: ["200.iso.part"])
        }
    }

    @Test func aChainOfMoreCertificatesThanAllowedIsRefused() async throws {
        try await AttackBench.with { bench in
            try await bench.start()
            let chain = Array(repeating: bench.pki.chainPath, count: SignedManifest.maxChainCertificates + 1)
            let signer = try bench.signer(chain: chain)
            bench.publish(try bench.signed(1100, [bench.entry(200)], signers: [signer]), images: [200])
            try await bench.refused(.malformed, "too many certificates in other_certs: 9, at most 8")
        }
    }

    @Test func moreRevocationListsThanAllowedAreRefused() async throws {
        try await AttackBench.with { bench in
            try await bench.start()
            let lists = try (1...(Revocations.maxLists + 1)).map { try bench.revocationList(number: $0, revoking: []) }
            try bench.publish(1100, images: [200], crls: lists)
            try await bench.refused(.malformed)
        }
    }

    @Test func aManifestListingTwentyThousandImagesIsRefusedByItsSize() async throws {
        try await AttackBench.with { bench in
            try await bench.start()
            let entry = bench.entry(200)
            let many = (0..<20_000).map { index in
                ManifestImage(timestamp: 200 + index, hash: entry.hash, volumeID: entry.volumeID, rollout: 0)
            }
            bench.publish(try bench.signed(1100, many), images: [])
            try await bench.refused(.tooLarge)
        }
    }
}

/// An attacker answers slowly enough that no read timeout fires, to hold the machine's
/// update for ever.
@Suite("Attacks: slow retrieval")
struct SlowRetrievalAttacks {
    /// A stall window of 5 s (scaled by `ICON_TEST_SLOWDOWN`, since the window also covers the
    /// connection and the handshake of the manifest's request): at least 64 KiB, or the rest,
    /// must arrive in every window. A byte a second is far below that.
    static let stall = StallGuard(window: TestTiming.duration(.seconds(5)))

    @Test func aManifestSentAByteASecondTimesOut() async throws {
        try await AttackBench.with { bench in
            try await bench.start()
            let signed = try bench.signed(1100, [bench.entry(200)])
            bench.repository.serve("manifest.json", .trickle(signed, every: .seconds(1)))
            try await bench.refused(.timeout, "manifest.json stalled") { $0.stall = Self.stall }
        }
    }

    @Test func anImageSentAByteASecondTimesOut() async throws {
        try await AttackBench.with { bench in
            try await bench.start()
            try bench.publish(1100, images: [200])
            bench.repository.serve("200.iso", .trickle(bench.iso(200), every: .seconds(1)))
            try await bench.refused(.timeout, "200.iso stalled", changing: ["200.iso.part"]) { $0.stall = Self.stall }
        }
    }

    @Test func aServerThatNeverAnswersTimesOut() async throws {
        try await AttackBench.with { bench in
            try await bench.start()
            bench.repository.serve("manifest.json", .silent)
            try await bench.refused(.timeout, "--stall-timeout") { $0.stall = Self.stall }
        }
    }
}
