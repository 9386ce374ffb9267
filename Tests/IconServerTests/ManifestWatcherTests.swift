import AsyncHTTPClient
import Foundation
import IconProtocol
import IconServer
import IconTestSupport
import Testing

/// An image type whose directory appears after `icon server` started still gets `new_manifest`.
@Suite struct ManifestWatcherTests {
    /// The fixture's server, also serving `late`, whose directory does not exist yet.
    static func configuration(_ fixture: ServerFixture) throws -> ImageServerConfiguration {
        var configuration = try fixture.configuration()
        configuration.imageTypes = ["demo", "late"]
        return configuration
    }

    /// Publishes as `icon publish` does: write a temp file beside it, rename it to manifest.json.
    static func publish(in directory: String) throws {
        try Data(#"{"images":[]}"#.utf8).write(to: URL(fileURLWithPath: directory + "/.manifest.json.tmp"))
        guard rename(directory + "/.manifest.json.tmp", directory + "/manifest.json") == 0 else {
            throw CocoaError(.fileWriteUnknown)
        }
    }

    /// Waits up to 30 s for a log line containing `text`.
    static func waitForLog(_ fixture: ServerFixture, _ text: String) async -> Bool {
        let deadline = ContinuousClock.now + .seconds(30)
        while ContinuousClock.now < deadline {
            if fixture.log.messages.contains(where: { $0.contains(text) }) { return true }
            try? await Task.sleep(for: .milliseconds(10))
        }
        return false
    }

    @Test func aTypeDirectoryCreatedLaterIsWatched() async throws {
        let fixture = try ServerFixture()
        defer { fixture.remove() }
        let late = fixture.imagePath + "/late"
        try await fixture.withServer(try Self.configuration(fixture)) { port in
            #expect(await Self.waitForLog(fixture, "\(late) does not exist yet"))
            try await fixture.withHubClient(
                port: port, path: "/ws/slave", subprotocol: HubSubprotocol.slave, identity: fixture.pki.device
            ) { device in
                #expect(await device.waitFor { $0 == .imageTypes(["demo", "late"]) } != nil)
                try FileManager.default.createDirectory(atPath: late, withIntermediateDirectories: false)
                // Publish only once the new directory is watched, so the push comes from its watch.
                #expect(await Self.waitForLog(fixture, "watching \(late)"))
                #expect(!device.messages.contains(.newManifest(imageType: "late")))
                try Self.publish(in: late)
                #expect(await device.waitFor { $0 == .newManifest(imageType: "late") } != nil)
                // The files are served too.
                try await fixture.withClient { (client: HTTPClient) async throws in
                    #expect(try await client.fetch("https://localhost:\(port)/image/late/manifest.json").status == 200)
                }
            }
        }
        #expect(!fixture.log.messages.contains { $0.contains("cannot watch") })
    }

    @Test func aTypeDirectoryMovedInWithAManifestIsAnnounced() async throws {
        let fixture = try ServerFixture()
        defer { fixture.remove() }
        let staging = fixture.directory.join("staging")
        try FileManager.default.createDirectory(atPath: staging, withIntermediateDirectories: true)
        try Self.publish(in: staging)
        try await fixture.withServer(try Self.configuration(fixture)) { port in
            try await fixture.withHubClient(
                port: port, path: "/ws/slave", subprotocol: HubSubprotocol.slave, identity: fixture.pki.device
            ) { device in
                #expect(await device.waitFor { $0 == .imageTypes(["demo", "late"]) } != nil)
                // The manifest is already inside when the watch is added: it counts as new.
                #expect(rename(staging, fixture.imagePath + "/late") == 0)
                #expect(await device.waitFor { $0 == .newManifest(imageType: "late") } != nil)
            }
        }
    }

    @Test func aTypeDirectoryRemovedAndCreatedAgainIsWatchedAgain() async throws {
        let fixture = try ServerFixture()
        defer { fixture.remove() }
        let demo = fixture.imagePath + "/demo"
        try await fixture.withServer { port in
            try await fixture.withHubClient(
                port: port, path: "/ws/slave", subprotocol: HubSubprotocol.slave, identity: fixture.pki.device
            ) { device in
                #expect(await device.waitFor { $0 == .imageTypes(["demo"]) } != nil)
                try FileManager.default.removeItem(atPath: demo)
                try FileManager.default.createDirectory(atPath: demo, withIntermediateDirectories: false)
                #expect(await Self.waitForLog(fixture, "watching \(demo)"))
                try Self.publish(in: demo)
                #expect(await device.waitFor { $0 == .newManifest(imageType: "demo") } != nil)
            }
        }
    }
}
