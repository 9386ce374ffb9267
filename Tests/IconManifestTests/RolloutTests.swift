import Foundation
import IconTestSupport
import Testing

@testable import IconManifest

/// One line of the original's rollout vectors.
struct RolloutVector: Decodable, Sendable, CustomTestStringConvertible {
    let hostname: String
    let timestamp: Int
    let basis_points: Int
    var testDescription: String { "\(hostname)@\(timestamp)" }

    static func all() throws -> [RolloutVector] {
        struct File: Decodable { let algorithm: String; let vectors: [RolloutVector] }
        let data = try Data(contentsOf: URL(fileURLWithPath: CompatVectors.path("rollout-vectors.json")))
        return try JSONDecoder().decode(File.self, from: data).vectors
    }
}

@Suite struct RolloutTests {
    @Test func vectorFileIsNotEmpty() throws {
        #expect(try RolloutVector.all().count >= 70)
    }

    @Test(arguments: try RolloutVector.all())
    func matchesOriginal(vector: RolloutVector) {
        #expect(Rollout.basisPoints(hostname: vector.hostname, timestamp: vector.timestamp) == vector.basis_points)
    }

    @Test func timestampsOutsideUInt32AreNeverEligible() {
        for timestamp in [-1, 4_294_967_296, Int.max] {
            #expect(Rollout.basisPoints(hostname: "vm", timestamp: timestamp) == 10_000)
            let image = ManifestImage(timestamp: timestamp, hash: "", volumeID: "", rollout: 10_000)
            #expect(Rollout.choose(from: [image], hostname: "vm") == nil)
        }
    }

    @Test func choosesNewestAdmittedImage() {
        // vm: 1459629471 -> 1371, 1459629717 -> 7020, 1700000000 -> 5906 (from the vectors).
        let a = ManifestImage(timestamp: 1_459_629_471, hash: "a", volumeID: "A", rollout: 1372)
        let b = ManifestImage(timestamp: 1_459_629_717, hash: "b", volumeID: "B", rollout: 7021)
        let c = ManifestImage(timestamp: 1_700_000_000, hash: "c", volumeID: "C", rollout: 5906)
        #expect(Rollout.choose(from: [c, b, a], hostname: "vm") == b)
        #expect(Rollout.choose(from: [a, b, c], hostname: "vm") == b)
        var cFull = c
        cFull.rollout = 10_000
        #expect(Rollout.choose(from: [cFull, b, a], hostname: "vm") == cFull)
        #expect(Rollout.choose(from: [cFull, b, a], hostname: "vm", excluding: [cFull.timestamp, b.timestamp]) == a)
        var aLow = a
        aLow.rollout = 1371
        #expect(Rollout.choose(from: [aLow], hostname: "vm") == nil)
        #expect(Rollout.choose(from: [], hostname: "vm") == nil)
    }

    @Test func zeroRolloutAdmitsNobodyAndFullAdmitsEverybody() throws {
        for vector in try RolloutVector.all() {
            let image = ManifestImage(timestamp: vector.timestamp, hash: "", volumeID: "", rollout: 0)
            #expect(!Rollout.admits(image, hostname: vector.hostname))
            let full = ManifestImage(timestamp: vector.timestamp, hash: "", volumeID: "", rollout: 10_000)
            #expect(Rollout.admits(full, hostname: vector.hostname))
        }
    }
}
