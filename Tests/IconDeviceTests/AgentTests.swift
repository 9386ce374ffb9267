import Foundation
@testable import IconDevice
import IconProtocol
import IconTestSupport
import Logging
import Testing

/// Records what the agent asked its actions to do.
actor ActionLog {
    var updates: [Int?] = []
    var reboots = 0
    var failNextUpdate = false

    func update(_ forced: Int?) throws -> String {
        updates.append(forced)
        if failNextUpdate {
            failNextUpdate = false
            throw CancellationError()
        }
        return "fetched \(forced.map(String.init) ?? "by rollout")"
    }

    func reboot() { reboots += 1 }
    func setFailNextUpdate() { failNextUpdate = true }
}

@Suite struct AgentTests {
    static func makeAgent(log: ActionLog, dir: TemporaryDirectory) -> Agent {
        let configuration = AgentConfiguration(
            serverURL: "wss://localhost:1", httpsCACert: "/nonexistent", clientCert: "/nonexistent",
            clientKey: "/nonexistent", imageType: "robot")
        let facts = DeviceFacts(hostname: "vm", runningImageFile: dir.join("iconograph.json"), imageDir: dir.path)
        let actions = AgentActions(
            update: { try await log.update($0) },
            reboot: { await log.reboot() })
        return Agent(configuration: configuration, facts: facts, actions: actions, logger: Logger(label: "test"))
    }

    @Test func newManifestForItsTypeFetchesAndReports() async throws {
        try await withTemporaryDirectory { dir in
            let log = ActionLog()
            let agent = Self.makeAgent(log: log, dir: dir)
            #expect(await agent.handle(.newManifest(imageType: "robot")))
            #expect(await log.updates == [nil])
            #expect(await agent.status == "fetched by rollout")
            #expect(await agent.handle(.newManifest(imageType: "kiosk")) == false)
            #expect(await log.updates == [nil])
        }
    }

    @Test func connectingChecksForAnUpdateOfItsType() async throws {
        try await withTemporaryDirectory { dir in
            let log = ActionLog()
            let agent = Self.makeAgent(log: log, dir: dir)
            // The server's image_types greeting after each connect: a catch-up fetch by rollout.
            #expect(await agent.handle(.imageTypes(["kiosk", "robot"])))
            #expect(await log.updates == [nil])
            #expect(await agent.status == "fetched by rollout")
            // A server that does not serve this type: nothing to fetch.
            #expect(await agent.handle(.imageTypes(["kiosk"])) == false)
            #expect(await log.updates == [nil])
        }
    }

    @Test func connectingWithNothingNewKeepsTheStatus() async throws {
        try await withTemporaryDirectory { dir in
            let log = ActionLog()
            let configuration = AgentConfiguration(
                serverURL: "wss://localhost:1", httpsCACert: "/nonexistent", clientCert: "/nonexistent",
                clientKey: "/nonexistent", imageType: "robot")
            let facts = DeviceFacts(hostname: "vm", runningImageFile: dir.join("iconograph.json"), imageDir: dir.path)
            let actions = AgentActions(
                update: { try await log.update($0) }, reboot: { await log.reboot() }, catchUp: { nil })
            let agent = Agent(configuration: configuration, facts: facts, actions: actions, logger: Logger(label: "test"))
            #expect(await agent.handle(.command(Command(target: "vm", data: CommandData(command: "reboot", timestamp: 5)))))
            #expect(await agent.handle(.imageTypes(["robot"])) == false)
            #expect(await agent.status == "Rebooting into 5...")
        }
    }

    @Test func rebootIntoATimestampFetchesItFirst() async throws {
        try await withTemporaryDirectory { dir in
            let log = ActionLog()
            let agent = Self.makeAgent(log: log, dir: dir)
            #expect(await agent.handle(.command(Command(target: "vm", data: CommandData(command: "reboot", timestamp: 1_459_629_717)))))
            #expect(await log.updates == [1_459_629_717])
            #expect(await agent.status == "Rebooting into 1459629717...")
            #expect(await agent.pendingAction == .reboot)
        }
    }

    @Test func plainRebootDoesNotFetch() async throws {
        try await withTemporaryDirectory { dir in
            let log = ActionLog()
            let agent = Self.makeAgent(log: log, dir: dir)
            #expect(await agent.handle(.command(Command(target: "vm", data: CommandData(command: "reboot")))))
            #expect(await log.updates.isEmpty)
            #expect(await agent.status == "Rebooting...")
            #expect(await agent.pendingAction == .reboot)
        }
    }

    @Test func failedFetchDoesNotReboot() async throws {
        try await withTemporaryDirectory { dir in
            let log = ActionLog()
            await log.setFailNextUpdate()
            let agent = Self.makeAgent(log: log, dir: dir)
            #expect(await agent.handle(.command(Command(target: "vm", data: CommandData(command: "reboot", timestamp: 7)))))
            #expect(await agent.pendingAction == .none)
            #expect(await agent.status?.hasPrefix("Cannot reboot into 7") == true)
        }
    }

    @Test func unknownCommandsAreIgnored() async throws {
        try await withTemporaryDirectory { dir in
            let log = ActionLog()
            let agent = Self.makeAgent(log: log, dir: dir)
            #expect(await agent.handle(.command(Command(target: "vm", data: CommandData(command: "format-disk")))) == false)
            #expect(await agent.pendingAction == .none)
        }
    }
}

@Suite struct DeviceFactsTests {
    @Test func reportCarriesRunningImageNextImageAndStatus() async throws {
        try await withTemporaryDirectory { dir in
            try #"{"image_type":"robot","timestamp":1459629471,"volume_id":"ICON_DEMO_A"}"#
                .write(toFile: dir.join("iconograph.json"), atomically: true, encoding: .utf8)
            try "4242.17 8000.00\n".write(toFile: dir.join("uptime"), atomically: true, encoding: .utf8)
            try FileManager.default.copyItem(
                atPath: CompatVectors.path("images/demo/1459629717.iso"), toPath: dir.join("1459629717.iso"))
            try FileManager.default.createSymbolicLink(atPath: dir.join("current"), withDestinationPath: "1459629717.iso")
            let facts = DeviceFacts(
                hostname: "vm", runningImageFile: dir.join("iconograph.json"), imageDir: dir.path,
                uptimeFile: dir.join("uptime"))
            let report = facts.report(status: "ok")
            #expect(report.hostname == "vm")
            #expect(report.imageType == "robot")
            #expect(report.timestamp == 1_459_629_471)
            #expect(report.volumeID == "ICON_DEMO_A")
            #expect(report.uptimeSeconds == 4242)
            #expect(report.nextTimestamp == 1_459_629_717)
            #expect(report.nextVolumeID == "ICON_DEMO_B")
            #expect(report.status == "ok")
            #expect(facts.imageType == "robot")
            #expect(facts.report(status: nil).status == nil)
        }
    }
}

@Suite struct BackoffTests {
    @Test func growsToTheMaximumWithJitterAndResets() {
        var backoff = Backoff(initial: .seconds(1), maximum: .seconds(8))
        #expect(backoff.next(random: 1) == .seconds(1))
        #expect(backoff.next(random: 1) == .seconds(2))
        #expect(backoff.next(random: 1) == .seconds(4))
        #expect(backoff.next(random: 1) == .seconds(8))
        #expect(backoff.next(random: 1) == .seconds(8))
        #expect(backoff.next(random: 0.5) == .seconds(4))
        backoff.reset()
        #expect(backoff.next(random: 1.5) == .milliseconds(1500))
    }
}

@Suite struct AgentConfigurationTests {
    @Test func endpointAddsThePathAndNeedsANameForIPs() throws {
        let named = AgentConfiguration(
            serverURL: "wss://images.example.net:8443", httpsCACert: "", clientCert: "", clientKey: "", imageType: "x")
        #expect(try named.endpoint() == ("wss://images.example.net:8443/ws/slave", "images.example.net"))
        var ip = named
        ip.serverURL = "wss://10.0.2.2:8443/"
        #expect(throws: (any Error).self) { try ip.endpoint() }
        ip.serverName = "icon-server"
        #expect(try ip.endpoint() == ("wss://10.0.2.2:8443/ws/slave", "icon-server"))
        var http = named
        http.serverURL = "https://x"
        #expect(throws: (any Error).self) { try http.endpoint() }
    }
}
