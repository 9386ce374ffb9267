import Foundation
import IconBoot
import IconCore
import IconTestSupport
@testable import IconUpdate
import Testing


/// The fetcher's part of boot safety: switches recorded in grubenv, bad images skipped.
@Suite("Fetcher and boot safety")
struct FetcherBootSafetyTests {
    static func fetch(_ env: FetchEnvironment, forced: Int? = nil, bootTries: Int = 1) async throws -> FetchResult {
        try await TestImageHost.with(root: env.serverDir, pki: env.pki) { port in
            var configuration = env.configuration(port: port)
            configuration.forcedTimestamp = forced
            configuration.bootTries = bootTries
            return try await Fetcher(configuration: configuration).fetch()
        }
    }

    static func grubenv(_ env: FetchEnvironment) throws -> GrubEnvironment {
        try GrubEnvironment.read(path: GrubEnvironment.path(bootDir: env.bootDir))
    }

    @Test func aSwitchMakesTheImagePendingOnceWithItsTries() async throws {
        try await FetchEnvironment.with { env in
            try env.makeImage(100)
            try env.publish(manifestTimestamp: 1000)
            _ = try await Self.fetch(env)
            try BootSafety(bootDir: env.bootDir, imageDir: env.deviceDir).markFirstImageGood(100)
            try env.makeImage(200)
            try env.publish(manifestTimestamp: 1001)
            _ = try await Self.fetch(env, bootTries: 3)
            var grubenv = try Self.grubenv(env)
            #expect(grubenv.timestamp("icon_pending") == 200)
            #expect(grubenv["icon_tries"] == "3")
            #expect(grubenv.timestamp("icon_good") == 100)
            // GRUB counted one try; fetching the same image again is no new switch.
            grubenv["icon_tries"] = "2"
            try grubenv.write(to: GrubEnvironment.path(bootDir: env.bootDir))
            _ = try await Self.fetch(env, bootTries: 3)
            #expect(try Self.grubenv(env)["icon_tries"] == "2")
            // Back to the good image: nothing pending.
            _ = try await Self.fetch(env, forced: 100)
            #expect(try Self.grubenv(env)["icon_pending"] == "")
            #expect(ImageDirectory(path: env.deviceDir).currentTimestamp() == 100)
        }
    }

    @Test func automaticChoiceSkipsABadImageAndForcingClearsTheMark() async throws {
        try await FetchEnvironment.with { env in
            try env.makeImage(100)
            try env.makeImage(200)
            try env.publish(manifestTimestamp: 1000)
            try FileManager.default.createDirectory(atPath: env.deviceDir, withIntermediateDirectories: true)
            try BootState(bad: [200]).save(imageDir: env.deviceDir)
            let automatic = try await Self.fetch(env)
            #expect(automatic.image?.timestamp == 100)
            #expect(ImageDirectory(path: env.deviceDir).currentTimestamp() == 100)
            let forced = try await Self.fetch(env, forced: 200)
            #expect(forced.image?.timestamp == 200)
            #expect(try BootState.load(imageDir: env.deviceDir).bad.isEmpty)
            #expect(try Self.grubenv(env).timestamp("icon_pending") == 200)
        }
    }

    @Test func badBootTriesFailBeforeAnyDownload() async throws {
        try await FetchEnvironment.with { env in
            try env.makeImage(100)
            try env.publish(manifestTimestamp: 1000)
            let before = env.snapshot()
            await expectIconError(.invalidArgument) { try await Self.fetch(env, bootTries: 0) }
            #expect(env.snapshot() == before)
        }
    }
}
