import Foundation
import IconCore
import IconManifest
import IconTestSupport
@testable import IconUpdate
import Testing


@Suite("Fetcher over mutual TLS")
struct FetcherTests {
    @Test func fetchesNewestImageStoresManifestAndFlipsCurrent() async throws {
        try await FetchEnvironment.with { env in
            try env.makeImage(100)
            try env.makeImage(200, size: 300 * 1024)
            try env.publish(manifestTimestamp: 1000)
            let result = try await TestImageHost.with(root: env.serverDir, pki: env.pki) { port in
                try await Fetcher(configuration: env.configuration(port: port)).fetch()
            }
            let image = try #require(result.image)
            #expect(image.timestamp == 200)
            #expect(image.downloaded)
            #expect(image.volumeID == "TEST_200")
            #expect(image.bytes == (try FileManager.default.attributesOfItem(atPath: "\(env.serverDir)/200.iso")[.size] as? Int))
            #expect(try FileHasher.sha256Hex(ofFileAt: "\(env.deviceDir)/200.iso") == env.serverHash(200))
            #expect(ImageDirectory(path: env.deviceDir).currentTimestamp() == 200)
            #expect(try FileManager.default.destinationOfSymbolicLink(atPath: "\(env.deviceDir)/current") == "200.iso")
            #expect(FileManager.default.contents(atPath: "\(env.deviceDir)/manifest.json")
                == FileManager.default.contents(atPath: "\(env.serverDir)/manifest.json"))
            #expect(Set(env.snapshot().keys) == ["200.iso", "current", "manifest.json", "grub.cfg"])
            let menu = try String(contentsOfFile: env.grubConfig, encoding: .utf8)
            #expect(menu.contains("/iconograph/200.iso"))
            #expect(menu.contains("TEST_200"))
            #expect(result.bootMenuPath == env.grubConfig)
            #expect(result.manifestTimestamp == 1000)
            #expect(result.summary.contains("downloaded"))
        }
    }

    /// The agent's check on connecting: an unchanged manifest leaves an operator's forced
    /// choice alone; a newer one is followed (and an interrupted download resumed).
    @Test func onlyNewerManifestSkipsTheAppliedOneAndFollowsANewerOne() async throws {
        try await FetchEnvironment.with { env in
            try env.makeImage(100)
            try env.makeImage(200)
            try env.publish(manifestTimestamp: 1000)
            try await TestImageHost.with(root: env.serverDir, pki: env.pki) { port in
                var forced = env.configuration(port: port)
                forced.forcedTimestamp = 100
                #expect(try await Fetcher(configuration: forced).fetch().image?.timestamp == 100)
                var catchUp = env.configuration(port: port)
                catchUp.onlyNewerManifest = true
                let same = try await Fetcher(configuration: catchUp).fetch()
                #expect(same.unchanged)
                #expect(same.image == nil)
                #expect(same.summary == "manifest 1000 is the one already applied; nothing to do")
                #expect(try FileManager.default.destinationOfSymbolicLink(atPath: env.deviceDir + "/current").hasSuffix("100.iso"))
                try env.makeImage(300)
                try env.publish(manifestTimestamp: 2000)
                let newer = try await Fetcher(configuration: catchUp).fetch()
                #expect(!newer.unchanged)
                #expect(newer.image?.timestamp == 300)
                #expect(try FileManager.default.destinationOfSymbolicLink(atPath: env.deviceDir + "/current").hasSuffix("300.iso"))
            }
        }
    }

    @Test func fetchesWhatPublisherPublished() async throws {
        try await FetchEnvironment.with { env in
            try env.makeImage(100)
            try env.makeImage(200)
            let published = try await Publisher.publish(
                imageDir: env.serverDir, certPath: env.pki.signer.certPath, keyPath: env.pki.signer.keyPath,
                otherCertPaths: [env.pki.chainPath], defaultRollout: ManifestImage.fullRollout, now: Date())
            let result = try await TestImageHost.with(root: env.serverDir, pki: env.pki) { port in
                try await Fetcher(configuration: env.configuration(port: port)).fetch()
            }
            #expect(result.manifestTimestamp == published.manifest.timestamp)
            #expect(result.image?.timestamp == 200)
            #expect(result.image?.volumeID == "TEST_200")
        }
    }

    /// The original's published demo directory and signature, the original's rollout rule:
    /// for host `vm` only 1459629471 (basis points 1371) is under the 2500 rollout.
    @Test func fetchesFromCompatibilityVectors() async throws {
        try await FetchEnvironment.with { env in
            let result = try await TestImageHost.with(root: CompatVectors.path("images/demo"), pki: env.pki) { port in
                var configuration = env.configuration(port: port)
                configuration.manifestTrustRoots = CompatVectors.path("pki/root.cert.pem")
                configuration.hostname = "vm"
                return try await Fetcher(configuration: configuration).fetch()
            }
            let image = try #require(result.image)
            #expect(image.timestamp == 1_459_629_471)
            #expect(image.volumeID == "ICON_DEMO_A")
            #expect(
                try FileHasher.sha256Hex(ofFileAt: "\(env.deviceDir)/1459629471.iso")
                    == "8c736cb05c042597217c791c8993a96d2cd34bbced0df8b856db6e03a4260985")
        }
    }

    @Test func imageAlreadyPresentIsNotDownloadedAgain() async throws {
        try await FetchEnvironment.with { env in
            try env.makeImage(100)
            try env.publish(manifestTimestamp: 1000)
            let (first, second) = try await TestImageHost.with(root: env.serverDir, pki: env.pki) { port in
                let fetcher = Fetcher(configuration: env.configuration(port: port))
                let first = try await fetcher.fetch()
                // Removing the file on the server proves the second run does not ask for it.
                try FileManager.default.removeItem(atPath: "\(env.serverDir)/100.iso")
                return (first, try await fetcher.fetch())
            }
            #expect(first.image?.downloaded == true)
            let image = try #require(second.image)
            #expect(!image.downloaded)
            #expect(image.bytes == 0)
            #expect(second.summary.contains("already present"))
        }
    }

    @Test func presentCopyWithWrongHashIsReplaced() async throws {
        try await FetchEnvironment.with { env in
            try env.makeImage(100)
            try env.publish(manifestTimestamp: 1000)
            try FileManager.default.createDirectory(atPath: env.deviceDir, withIntermediateDirectories: true)
            try Data("damaged".utf8).write(to: URL(fileURLWithPath: "\(env.deviceDir)/100.iso"))
            let result = try await TestImageHost.with(root: env.serverDir, pki: env.pki) { port in
                try await Fetcher(configuration: env.configuration(port: port)).fetch()
            }
            #expect(result.image?.downloaded == true)
            #expect(try FileHasher.sha256Hex(ofFileAt: "\(env.deviceDir)/100.iso") == env.serverHash(100))
        }
    }

    @Test func forcedTimestampOverridesRollout() async throws {
        try await FetchEnvironment.with { env in
            try env.makeImage(100)
            try env.makeImage(200)
            try env.publish(manifestTimestamp: 1000, rollouts: [100: 0])
            let result = try await TestImageHost.with(root: env.serverDir, pki: env.pki) { port in
                var configuration = env.configuration(port: port)
                configuration.forcedTimestamp = 100
                return try await Fetcher(configuration: configuration).fetch()
            }
            #expect(result.image?.timestamp == 100)
            #expect(ImageDirectory(path: env.deviceDir).currentTimestamp() == 100)
            #expect(!FileManager.default.fileExists(atPath: "\(env.deviceDir)/200.iso"))
        }
    }

    @Test func zeroRolloutChoosesNothingAndKeepsCurrent() async throws {
        try await FetchEnvironment.with { env in
            try env.makeImage(100)
            try env.publish(manifestTimestamp: 1000, rollouts: [100: 0])
            let result = try await TestImageHost.with(root: env.serverDir, pki: env.pki) { port in
                try await Fetcher(configuration: env.configuration(port: port)).fetch()
            }
            #expect(result.image == nil)
            #expect(result.summary.contains("offers no image to this host"))
            #expect(Set(env.snapshot().keys) == ["manifest.json"])
        }
    }

    @Test func maxImagesDeletesOldestButNeverCurrentOrRunning() async throws {
        try await FetchEnvironment.with { env in
            try env.makeImage(700)
            try env.publish(manifestTimestamp: 1000)
            try FileManager.default.createDirectory(atPath: env.deviceDir, withIntermediateDirectories: true)
            for timestamp in 1...6 {
                try MiniISO.write(to: "\(env.deviceDir)/\(timestamp).iso", volumeID: "OLD", payloadSize: 10)
            }
            try Data(#"{"timestamp": 1}"#.utf8).write(to: URL(fileURLWithPath: env.runningFile))
            try Data().write(to: URL(fileURLWithPath: "\(env.deviceDir)/.9.iso.part-abc123"))
            let result = try await TestImageHost.with(root: env.serverDir, pki: env.pki) { port in
                var configuration = env.configuration(port: port)
                configuration.maxImages = 3
                return try await Fetcher(configuration: configuration).fetch()
            }
            #expect(Set(result.deletedFiles) == ["2.iso", "3.iso", "4.iso", "5.iso", ".9.iso.part-abc123"])
            #expect(ImageDirectory(path: env.deviceDir).isoTimestamps() == [1, 6, 700])
            #expect(ImageDirectory(path: env.deviceDir).currentTimestamp() == 700)
        }
    }

    @Test func zeroMaxImagesKeepsEverything() async throws {
        try await FetchEnvironment.with { env in
            try env.makeImage(700)
            try env.publish(manifestTimestamp: 1000)
            try FileManager.default.createDirectory(atPath: env.deviceDir, withIntermediateDirectories: true)
            for timestamp in 1...8 {
                try MiniISO.write(to: "\(env.deviceDir)/\(timestamp).iso", volumeID: "OLD", payloadSize: 10)
            }
            let result = try await TestImageHost.with(root: env.serverDir, pki: env.pki) { port in
                var configuration = env.configuration(port: port)
                configuration.maxImages = 0
                return try await Fetcher(configuration: configuration).fetch()
            }
            #expect(result.deletedFiles.isEmpty)
            #expect(ImageDirectory(path: env.deviceDir).isoTimestamps().count == 9)
        }
    }
}
