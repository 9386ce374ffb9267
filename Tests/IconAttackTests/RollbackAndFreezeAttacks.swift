import Foundation
import IconCore
import IconManifest
import IconPKI
import IconTestSupport
@testable import IconUpdate
import Testing
import X509

/// An attacker replays what was once validly signed: an older manifest, a lower floor, an older
/// revocation list, or the same manifest for ever (a freeze) so the machine never hears of a fix.
@Suite("Attacks: rollback")
struct RollbackAttacks {
    @Test func anOlderManifestIsRefused() async throws {
        try await AttackBench.with { bench in
            try await bench.start()
            try bench.publish(1100, images: [200])
            _ = try await bench.fetch()
            try bench.publish(1050, images: [100])
            try await bench.refused(.replay, "has timestamp 1050, older than the stored")
        }
    }

    @Test func theFirstManifestAgainIsRefused() async throws {
        // The very manifest the machine started from, byte for byte, validly signed.
        try await AttackBench.with { bench in
            try await bench.start()
            let first = try bench.signed(1000, [bench.entry(100)])
            try bench.publish(1100, images: [200])
            _ = try await bench.fetch()
            bench.publish(first, images: [100])
            try await bench.refused(.replay)
        }
    }

    @Test func aNewerManifestWithALowerFloorDoesNotLowerIt() async throws {
        try await AttackBench.with { bench in
            try await bench.start()
            try bench.publish(1100, images: [200], minTimestamp: 200)
            _ = try await bench.fetch()
            try bench.publish(1200, images: [100], minTimestamp: 100)
            let result = try await bench.fetch()
            let directory = ImageDirectory(path: bench.deviceDir)
            #expect(result.image == nil)
            #expect(directory.currentTimestamp() == 200)
            #expect(directory.floor() == 200)
        }
    }

    @Test func aForcedImageBelowTheFloorIsRefused() async throws {
        try await AttackBench.with { bench in
            try await bench.start()
            try bench.publish(1100, images: [200, 100], minTimestamp: 200)
            _ = try await bench.fetch()
            try await bench.refused(.belowFloor, "image 100 is older than the version floor 200") { $0.forcedTimestamp = 100 }
        }
    }

    @Test func aRolloutOfAnImageBelowTheManifestsOwnFloorIsIgnored() async throws {
        try await AttackBench.with { bench in
            try await bench.start()
            try bench.publish(1100, images: [150], minTimestamp: 200)
            let result = try await bench.fetch()
            #expect(result.image == nil)
            #expect(ImageDirectory(path: bench.deviceDir).currentTimestamp() == 100)
            #expect(bench.repository.requests("150.iso") == 0)
        }
    }

    @Test func anOlderRevocationListDoesNotUnrevoke() async throws {
        try await AttackBench.with { bench in
            try await bench.start()
            let second = try bench.pki.issueLeaf(name: "Second Signer", file: "second", usages: [.codeSigning])
            let revoking = try bench.revocationList(number: 3, revoking: [bench.pki.signer.certificate])
            bench.publish(
                try bench.signed(1100, [bench.entry(100)], signers: [bench.signer(second)], crls: [revoking]), images: [100])
            _ = try await bench.fetch()
            // The stolen key's manifest carries an older list that revokes nothing.
            let older = try bench.revocationList(number: 2, revoking: [])
            try bench.publish(1200, images: [200], crls: [older])
            try await bench.refused(.revoked, "CRL number 3")
            #expect(ImageDirectory(path: bench.deviceDir).revocations().lists.map(\.number) == [3])
        }
    }
}

@Suite("Attacks: freeze")
struct FreezeAttacks {
    @Test func anExpiredManifestIsRefused() async throws {
        try await AttackBench.with { bench in
            try await bench.start()
            try bench.publish(1100, images: [200], expires: bench.clock - 3_600)
            try await bench.refused(.expired, "rejected: expired")
        }
    }

    @Test func aManifestExpiredByOneSecondIsRefused() async throws {
        try await AttackBench.with { bench in
            try await bench.start()
            try bench.publish(1100, images: [200], expires: bench.clock - 1)
            try await bench.refused(.expired)
        }
    }

    @Test func aManifestIsRefusedAtTheSecondItExpires() async throws {
        try await AttackBench.with { bench in
            try await bench.start()
            try bench.publish(1100, images: [200], expires: bench.clock)
            try await bench.refused(.expired)
        }
    }

    @Test func aMachineWhoseClockIsAheadGoesByItsOwnClock() async throws {
        // The clock runs a minute fast: the manifest that still has 30 s by the server's clock
        // is expired by the machine's, and the message gives the machine's time.
        try await AttackBench.with { bench in
            try await bench.start()
            try bench.publish(1100, images: [200], expires: bench.clock + 30)
            let ahead = bench.now.addingTimeInterval(60)
            try await bench.refused(.expired, "(\(bench.clock + 60))") { configuration in
                configuration.now = { ahead }
            }
        }
    }

    @Test func theSameManifestServedPastItsExpiryIsRefused() async throws {
        // The freeze proper: the repository goes on serving the manifest the machine has, so
        // the agent's check on connecting (which skips a manifest it already has) would see
        // nothing new; it must see that it expired.
        try await AttackBench.with { bench in
            try bench.publish(1000, images: [100], expires: bench.clock + 3_600)
            _ = try await bench.fetch()
            let later = bench.now.addingTimeInterval(7_200)
            try await bench.refused(.expired) { configuration in
                configuration.onlyNewerManifest = true
                configuration.now = { later }
            }
        }
    }
}
