import Foundation
import IconCore
import IconManifest
import IconTestSupport
import IconAgent
import IconProtocol
@testable import IconUpdate
import Testing

/// A manifest's `expires` and `min_timestamp` against the real fetcher over mutual TLS, with an
/// injected clock: an expired manifest is refused and changes nothing; the version floor keeps
/// older images out of the rollout and out of an operator's forced choice, and only rises.
@Suite("Manifest expiry and version floor")
struct ManifestAgingTests {
    /// Midnight (UTC) 30 days from now: inside the test certificates' year of validity.
    static let expiry = (Int(Date().timeIntervalSince1970) / 86_400 + 30) * 86_400

    /// `seconds` as the messages give it: ISO 8601, then the number.
    static func text(_ seconds: Int) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.timeZone = TimeZone(identifier: "UTC")
        return "\(formatter.string(from: Date(timeIntervalSince1970: TimeInterval(seconds)))) (\(seconds))"
    }

    /// The device fetched image 100 under manifest 1000 (neither expiry nor floor); then
    /// `change` alters the server side, and the fetch runs at `now` with `forced`.
    func fetchAfter(
        now: Int, forced: Int? = nil, _ change: @Sendable (FetchEnvironment) throws -> Void,
        check: @Sendable (FetchEnvironment, Result<FetchResult, IconError>, _ before: [String: String]) throws -> Void
    ) async throws {
        try await FetchEnvironment.with { env in
            try env.makeImage(100)
            try env.publish(manifestTimestamp: 1000)
            try await TestImageHost.with(root: env.serverDir, pki: env.pki) { port in
                _ = try await Fetcher(configuration: env.configuration(port: port)).fetch()
                try change(env)
                let before = env.snapshot()
                var configuration = env.configuration(port: port)
                configuration.now = { Date(timeIntervalSince1970: TimeInterval(now)) }
                configuration.forcedTimestamp = forced
                let outcome: Result<FetchResult, IconError>
                do {
                    outcome = .success(try await Fetcher(configuration: configuration).fetch())
                } catch let error as IconError {
                    outcome = .failure(error)
                }
                try check(env, outcome, before)
            }
        }
    }

    /// The error of a failed fetch, whose state must be as before.
    func refusal(_ outcome: Result<FetchResult, IconError>, _ env: FetchEnvironment, _ before: [String: String]) throws
        -> IconError
    {
        guard case .failure(let error) = outcome else {
            Issue.record("the fetch should have failed")
            throw CancellationError()
        }
        #expect(!error.message.contains("\n"))
        #expect(env.snapshot() == before, "device state changed")
        return error
    }

    @Test func aManifestIsRefusedFromTheSecondItExpiresAndNothingChanges() async throws {
        try await fetchAfter(now: Self.expiry) { env in
            try env.makeImage(200)
            try env.publish(manifestTimestamp: 1100, expires: Self.expiry)
        } check: { env, outcome, before in
            let error = try refusal(outcome, env, before)
            #expect(error.code == .expired)
            #expect(error.message.contains("/image/demo/manifest.json rejected: expired"), "\(error.message)")
            #expect(error.message.contains("expired at \(Self.text(Self.expiry)) and it is now \(Self.text(Self.expiry))"))
            #expect(Self.text(Self.expiry).hasSuffix("T00:00:00Z (\(Self.expiry))"))
            #expect(!FileManager.default.fileExists(atPath: "\(env.deviceDir)/200.iso"))
        }
    }

    @Test func aClockAheadOfTheExpiryRefusesItToo() async throws {
        try await fetchAfter(now: Self.expiry + 3_600) { env in
            try env.makeImage(200)
            try env.publish(manifestTimestamp: 1100, expires: Self.expiry, minTimestamp: 200)
        } check: { env, outcome, before in
            let error = try refusal(outcome, env, before)
            #expect(error.code == .expired)
            #expect(error.message.contains("it is now \(Self.text(Self.expiry + 3_600))"))
            #expect(Self.text(Self.expiry + 3_600).hasSuffix("T01:00:00Z (\(Self.expiry + 3_600))"))
            // A refused manifest raises no floor.
            #expect(ImageDirectory(path: env.deviceDir).floor() == nil)
        }
    }

    @Test func oneSecondBeforeItExpiresTheManifestIsTakenWithAWarning() async throws {
        try await fetchAfter(now: Self.expiry - 1) { env in
            try env.makeImage(200)
            try env.publish(manifestTimestamp: 1100, expires: Self.expiry)
        } check: { env, outcome, _ in
            let result = try outcome.get()
            #expect(result.image?.timestamp == 200)
            #expect(result.expiresSoon == Self.expiry)
            #expect(result.summary.hasSuffix(
                "; warning: manifest 1100 expires at \(Self.text(Self.expiry)), within a day: sign it again"))
            #expect(ImageDirectory(path: env.deviceDir).storedManifestExpires == Self.expiry)
        }
    }

    @Test func aManifestThatExpiresInMoreThanADayGetsNoWarning() async throws {
        try await fetchAfter(now: Self.expiry - 86_400) { env in
            try env.publish(manifestTimestamp: 1100, expires: Self.expiry)
        } check: { _, outcome, _ in
            let result = try outcome.get()
            #expect(result.expiresSoon == nil)
            #expect(!result.summary.contains("warning"))
        }
    }

    @Test func imagesBelowTheFloorAreNeverChosenByTheRollout() async throws {
        // 300 is not rolled out to this host; 200 is, but it is below the floor 250.
        try await fetchAfter(now: Self.expiry - 86_400) { env in
            try env.makeImage(200)
            try env.makeImage(300)
            try env.publish(manifestTimestamp: 1100, rollouts: [300: 0], minTimestamp: 250)
        } check: { env, outcome, _ in
            let result = try outcome.get()
            #expect(result.image == nil)
            let directory = ImageDirectory(path: env.deviceDir)
            #expect(directory.currentTimestamp() == 100)
            #expect(directory.floor() == 250)
            #expect(!FileManager.default.fileExists(atPath: "\(env.deviceDir)/200.iso"))
        }
    }

    @Test func anOperatorsForcedImageBelowTheFloorIsRefused() async throws {
        try await fetchAfter(now: Self.expiry - 86_400, forced: 100) { env in
            try env.makeImage(200)
            try env.publish(manifestTimestamp: 1100, minTimestamp: 200)
        } check: { env, outcome, before in
            let error = try refusal(outcome, env, before)
            #expect(error.code == .belowFloor)
            #expect(error.message == "image 100 is older than the version floor 200 (the highest min_timestamp this machine "
                + "has seen, kept in \(env.deviceDir)/min_timestamp); it never switches to an older image")
        }
    }

    @Test func theFloorOnlyRisesAndOutlivesManifestsWithoutOne() async throws {
        try await FetchEnvironment.with { env in
            for timestamp in [100, 200, 300] { try env.makeImage(timestamp) }
            try await TestImageHost.with(root: env.serverDir, pki: env.pki) { port in
                let directory = ImageDirectory(path: env.deviceDir)
                try env.publish(manifestTimestamp: 1000, minTimestamp: 200)
                #expect(try await Fetcher(configuration: env.configuration(port: port)).fetch().image?.timestamp == 300)
                #expect(directory.floor() == 200)
                // A newer manifest with a lower floor, then one without: the floor stays 200.
                try env.publish(manifestTimestamp: 1100, minTimestamp: 150)
                _ = try await Fetcher(configuration: env.configuration(port: port)).fetch()
                #expect(directory.floor() == 200)
                try env.publish(manifestTimestamp: 1200)
                var forced = env.configuration(port: port)
                forced.forcedTimestamp = 100
                let before = env.snapshot()
                await expectIconError(.belowFloor) { _ = try await Fetcher(configuration: forced).fetch() }
                #expect(env.snapshot() == before)
                // At the floor is allowed.
                forced.forcedTimestamp = 200
                #expect(try await Fetcher(configuration: forced).fetch().image?.timestamp == 200)
                #expect(directory.currentTimestamp() == 200)
                #expect(try String(contentsOfFile: directory.floorPath, encoding: .utf8) == "200\n")
            }
        }
    }

    @Test func theAgentReportsItsManifestsExpiryAndItsFloor() async throws {
        try await fetchAfter(now: Self.expiry - 3_600) { env in
            try env.makeImage(200)
            try env.publish(manifestTimestamp: 1100, expires: Self.expiry, minTimestamp: 200)
        } check: { env, outcome, _ in
            _ = try outcome.get()
            let facts = DeviceFacts(hostname: "device-1", runningImageFile: env.runningFile, imageDir: env.deviceDir)
            let report = facts.report(status: nil)
            #expect(report.manifestExpires == Self.expiry)
            #expect(report.minTimestamp == 200)
            let json = try #require(String(data: try JSONEncoder().encode(report), encoding: .utf8))
            #expect(json.contains("\"manifest_expires\":\(Self.expiry)") && json.contains("\"min_timestamp\":200"), "\(json)")
        }
    }

    @Test func aMachineWithTheOriginalsManifestReportsNeither() async throws {
        try await fetchAfter(now: Self.expiry) { _ in } check: { env, outcome, _ in
            _ = try outcome.get()
            let report = DeviceFacts(hostname: "device-1", runningImageFile: env.runningFile, imageDir: env.deviceDir)
                .report(status: nil)
            #expect(report.manifestExpires == nil && report.minTimestamp == nil)
        }
    }
}
