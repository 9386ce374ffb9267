import Foundation
@testable import IconAgent
import IconCore
import IconFleetClient
import IconProtocol
@testable import IconTLS
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

/// What the agent reports and logs about itself: the image type, failed updates.
@Suite struct AgentReportTests {
    static func agent(imageType: String, dir: TemporaryDirectory, log: TestLog, actions: AgentActions? = nil) -> Agent {
        let configuration = AgentConfiguration(
            serverURL: "wss://127.0.0.1:1", httpsCACert: "/nonexistent", clientCert: "/nonexistent",
            clientKey: "/nonexistent", imageType: imageType)
        let facts = DeviceFacts(hostname: "vm", runningImageFile: dir.join("iconograph.json"), imageDir: dir.path)
        return Agent(
            configuration: configuration, facts: facts,
            actions: actions ?? AgentActions(update: { _ in "ok" }, reboot: {}), logger: log.logger())
    }

    static func reportedImageType(_ agent: Agent) async throws -> String? {
        guard case .report(let report) = try HubMessage.decode(await agent.reportText()) else { return nil }
        return report.data.imageType
    }

    @Test func imageTypeComesFromTheFlagWhenTheRunningImageNamesNone() async throws {
        try await withTemporaryDirectory { dir in
            let log = TestLog()
            // No /etc/iconograph.json at all (a machine not booted from an image): --image-type.
            let agent = Self.agent(imageType: "kiosk", dir: dir, log: log)
            #expect(try await Self.reportedImageType(agent) == "kiosk")
            // A running image file without image_type.
            try #"{"timestamp":5}"#.write(toFile: dir.join("iconograph.json"), atomically: true, encoding: .utf8)
            #expect(try await Self.reportedImageType(agent) == "kiosk")
            await agent.warnAboutImageType()
            #expect(log.messages(atLeast: .warning).isEmpty)
        }
    }

    @Test func theFlagWinsOverADifferentRunningImageTypeWithOneWarning() async throws {
        try await withTemporaryDirectory { dir in
            let log = TestLog()
            try #"{"image_type":"robot","timestamp":5}"#.write(toFile: dir.join("iconograph.json"), atomically: true, encoding: .utf8)
            let same = Self.agent(imageType: "robot", dir: dir, log: log)
            #expect(try await Self.reportedImageType(same) == "robot")
            await same.warnAboutImageType()
            #expect(log.messages(atLeast: .warning).isEmpty)
            let other = Self.agent(imageType: "kiosk", dir: dir, log: log)
            #expect(try await Self.reportedImageType(other) == "kiosk")
            await other.warnAboutImageType()
            #expect(log.messages(atLeast: .warning) == [
                "\(dir.join("iconograph.json")) names image type robot, but --image-type is kiosk: following and reporting kiosk"
            ])
        }
    }

    @Test func aFailedUpdateIsAnErrorWithACleanStatusLine() async throws {
        try await FetchEnvironment.with { env in
            let log = TestLog()
            let live = AgentActions.live(
                fetcher: env.configuration(port: 1), bootDir: env.bootDir, rebootCommand: [], logger: log.logger())
            let agent = Self.agent(imageType: "demo", dir: env.temp, log: log, actions: live)
            #expect(await agent.handle(.newManifest(imageType: "demo")))
            let status = try #require(await agent.status)
            #expect(status == "Update failed: network: https://127.0.0.1:1/image/demo/manifest.json: connection refused (is the server running and listening on 127.0.0.1:1?)")
            #expect(log.entries.contains(TestLog.Entry(level: .error, message: status)))
            // The status in the report is that one line.
            guard case .report(let report) = try HubMessage.decode(await agent.reportText()) else {
                Issue.record("not a report")
                return
            }
            #expect(report.data.status == status)
        }
    }

    @Test func reportHostnamesPreferTheCertificatesName() {
        #expect(ReportHostname.choose(system: "vm", certificateNames: [], certificatePath: "/c") == ReportHostname(hostname: "vm", note: nil))
        #expect(ReportHostname.choose(system: "robot-17", certificateNames: ["robot-17"], certificatePath: "/c").note == nil)
        #expect(ReportHostname.choose(system: "ROBOT-17", certificateNames: ["robot-17"], certificatePath: "/c").hostname == "ROBOT-17")
        let one = ReportHostname.choose(system: "vm", certificateNames: ["robot-17"], certificatePath: "/etc/icon/client.pem")
        #expect(one.hostname == "robot-17")
        #expect(one.note == "the system hostname vm is not in the client certificate /etc/icon/client.pem; reporting as robot-17, the name it carries (--hostname overrides)")
        let several = ReportHostname.choose(system: "vm", certificateNames: ["robot-17", "robot-17.lan"], certificatePath: "/c")
        #expect(several.hostname == "robot-17")
        #expect(several.note?.contains("the first of the names it carries (robot-17, robot-17.lan)") == true)
        #expect(ReportHostname.choose(system: "robot-17.lan", certificateNames: ["robot-17", "robot-17.lan"], certificatePath: "/c").hostname == "robot-17.lan")
    }

    @Test func clientCertificateNamesAreReadFromTheFile() async throws {
        try await withTemporaryDirectory { dir in
            let pki = try TestPKI(directory: dir.join("pki"))
            let files = ClientTLSFiles(caCertPath: pki.root.certPath, clientCertPath: pki.device.certPath, clientKeyPath: pki.device.keyPath)
            #expect(try files.clientCertificateDNSNames() == ["device-1"])
            #expect(try ClientTLSFiles(caCertPath: nil, clientCertPath: nil, clientKeyPath: nil).clientCertificateDNSNames() == [])
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
            #expect(report.iconVersion == IconVersion.string)
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
    @Test func endpointAddsThePathAndTakesIPAddresses() throws {
        let named = AgentConfiguration(
            serverURL: "wss://images.example.net:8443", httpsCACert: "", clientCert: "", clientKey: "", imageType: "x")
        #expect(try named.endpoint().url == "wss://images.example.net:8443/ws/slave")
        #expect(try named.endpoint().serverName == "images.example.net")
        var ip = named
        ip.serverURL = "wss://10.0.2.2:8443/"
        // No name needed: the certificate must then carry the address.
        #expect(try ip.endpoint().url == "wss://10.0.2.2:8443/ws/slave")
        #expect(try ip.endpoint().serverName == nil)
        ip.serverName = "icon-server"
        #expect(try ip.endpoint().serverName == "icon-server")
        var http = named
        http.serverURL = "https://x"
        #expect(throws: (any Error).self) { try http.endpoint() }
    }
}
