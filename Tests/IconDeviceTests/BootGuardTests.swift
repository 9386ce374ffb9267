import Foundation
@testable import IconAgent
import IconBoot
import IconCore
import IconProtocol
import IconTestSupport
@testable import IconUpdate
import Logging
import Testing


/// A machine's BOOT partition in a temporary directory, with a fake clock: `sleep` advances
/// the uptime instead of waiting.
struct BootBench {
    let dir: TemporaryDirectory
    let uptime = Locked(0.0)
    let reboots = Locked(0)
    let healthCalls = Locked<[Double]>([])
    let healthy: Locked<Bool>

    var bootDir: String { dir.join("boot") }
    var imageDir: String { dir.join("boot/iconograph") }
    var runningFile: String { dir.join("iconograph.json") }
    var safety: BootSafety { BootSafety(bootDir: bootDir, imageDir: imageDir) }

    init(_ dir: TemporaryDirectory, images: [Int], running: Int?, healthy: Bool = true) throws {
        self.dir = dir
        self.healthy = Locked(healthy)
        try FileManager.default.createDirectory(atPath: imageDir, withIntermediateDirectories: true)
        for timestamp in images {
            try MiniISO.write(to: "\(imageDir)/\(timestamp).iso", volumeID: "V\(timestamp)", payloadSize: 1024)
        }
        if let running {
            try #"{"image_type":"robot","timestamp":\#(running)}"#.write(toFile: runningFile, atomically: true, encoding: .utf8)
        }
    }

    var actions: AgentActions {
        let uptime = uptime
        let reboots = reboots
        let healthCalls = healthCalls
        let healthy = healthy
        return AgentActions(
            update: { _ in "updated" },
            reboot: { reboots.mutate { $0 += 1 } },
            healthCheck: {
                healthCalls.mutate { $0.append(uptime.value) }
                return healthy.value
            },
            uptime: { uptime.value },
            sleep: { duration in
                let (seconds, attoseconds) = duration.components
                uptime.mutate { $0 += Double(seconds) + Double(attoseconds) / 1e18 }
            },
            now: { 1_800_000_000 })
    }

    func configuration(bootTries: Int = 1) -> BootGuardConfiguration {
        BootGuardConfiguration(
            bootDir: bootDir, imageDir: imageDir, runningImageFile: runningFile, bootTries: bootTries,
            goodAfter: .seconds(60), healthTimeout: .seconds(300), healthRetryInterval: .seconds(5))
    }

    var bootGuard: BootGuard {
        BootGuard(configuration: configuration(), actions: actions, logger: Logger(label: "test"))
    }

    func env() throws -> GrubEnvironment { try safety.environment() }
}

@Suite struct BootGuardTests {
    @Test func freshFirstBootIsAlreadyGoodWithoutWaiting() async throws {
        try await withTemporaryDirectory { dir in
            let bench = try BootBench(dir, images: [100], running: 100)
            try bench.safety.markFirstImageGood(100)
            #expect(try bench.bootGuard.checkRollback() == nil)
            #expect(try await bench.bootGuard.prove() == .alreadyGood(100))
            #expect(bench.uptime.value == 0)
            #expect(bench.healthCalls.value.isEmpty)
            #expect(try bench.safety.state().good == [100])
        }
    }

    @Test func pendingImageIsMarkedGoodAfterTheDelayAndAHealthySignal() async throws {
        try await withTemporaryDirectory { dir in
            let bench = try BootBench(dir, images: [100, 200], running: 200)
            try bench.safety.markFirstImageGood(100)
            try bench.safety.recordSwitch(to: 200, bootTries: 2)
            #expect(try bench.env()["icon_pending"] == "200")
            #expect(try bench.env()["icon_tries"] == "2")
            bench.uptime.mutate { $0 = 12 }
            #expect(try await bench.bootGuard.prove() == .markedGood(200))
            #expect(bench.healthCalls.value == [60])
            let env = try bench.env()
            #expect(env.timestamp("icon_good") == 200)
            #expect(env["icon_pending"] == "")
            #expect(env["icon_tries"] == "")
            #expect(try bench.safety.state().good == [100, 200])
            #expect(bench.reboots.value == 0)
        }
    }

    @Test func healthRetriesUntilItSucceeds() async throws {
        try await withTemporaryDirectory { dir in
            let bench = try BootBench(dir, images: [100, 200], running: 200, healthy: false)
            try bench.safety.markFirstImageGood(100)
            try bench.safety.recordSwitch(to: 200, bootTries: 1)
            let healthy = bench.healthy
            let calls = bench.healthCalls
            var actions = bench.actions
            let check = actions.healthCheck
            actions.healthCheck = {
                if calls.value.count == 3 { healthy.mutate { $0 = true } }
                return await check()
            }
            let outcome = try await BootGuard(configuration: bench.configuration(), actions: actions, logger: Logger(label: "t")).prove()
            #expect(outcome == .markedGood(200))
            #expect(bench.healthCalls.value == [60, 65, 70, 75])
        }
    }

    @Test func failingHealthRebootsAPendingImageAtTheTimeout() async throws {
        try await withTemporaryDirectory { dir in
            let bench = try BootBench(dir, images: [100, 200], running: 200, healthy: false)
            try bench.safety.markFirstImageGood(100)
            try bench.safety.recordSwitch(to: 200, bootTries: 1)
            #expect(try await bench.bootGuard.prove() == .rebooted(200))
            #expect(bench.reboots.value == 1)
            #expect(bench.healthCalls.value.first == 60)
            #expect(bench.healthCalls.value.last == 300)
            #expect(bench.healthCalls.value.count == 49)
            // Nothing marked: GRUB decides on the next boot.
            let env = try bench.env()
            #expect(env.timestamp("icon_good") == 100)
            #expect(env.timestamp("icon_pending") == 200)
        }
    }

    @Test func failingHealthOnAnImageThatIsNotPendingDoesNotReboot() async throws {
        try await withTemporaryDirectory { dir in
            // Booted by hand from the menu: neither good nor pending. A reboot would come back here.
            let bench = try BootBench(dir, images: [100, 200], running: 200, healthy: false)
            try bench.safety.markFirstImageGood(100)
            #expect(try await bench.bootGuard.prove() == .healthFailed(200))
            #expect(bench.reboots.value == 0)
            #expect(try bench.env().timestamp("icon_good") == 100)
        }
    }

    @Test func noRunningImageFileMeansNothingToProve() async throws {
        try await withTemporaryDirectory { dir in
            let bench = try BootBench(dir, images: [100], running: nil)
            let outcome = try await bench.bootGuard.prove()
            #expect(outcome == .noRunningImage(file: bench.runningFile, missing: true))
            // The status says what is going on and what it means, naming the file.
            #expect(outcome.status == "not running an Iconograph image (\(bench.runningFile) missing): boot safety is off")
            #expect(!FileManager.default.fileExists(atPath: GrubEnvironment.path(bootDir: bench.bootDir)))
            try #"{"image_type":"robot"}"#.write(toFile: bench.runningFile, atomically: true, encoding: .utf8)
            let noTimestamp = try await bench.bootGuard.prove()
            #expect(noTimestamp.status == "not running an Iconograph image (\(bench.runningFile) names no timestamp): boot safety is off")
        }
    }

    @Test func rollbackIsAcknowledgedMarkedBadAndReported() async throws {
        try await withTemporaryDirectory { dir in
            let bench = try BootBench(dir, images: [100, 200], running: 100)
            try bench.safety.markFirstImageGood(100)
            try bench.safety.recordSwitch(to: 200, bootTries: 1)
            try ImageDirectory(path: bench.imageDir).setCurrent(200)
            // What GRUB's header leaves after the pending image ran out of tries.
            var env = try bench.env()
            env["icon_failed"] = "200"
            env["icon_pending"] = ""
            env["icon_tries"] = "0"
            try env.write(to: bench.safety.grubEnvPath)

            let configuration = AgentConfiguration(
                serverURL: "wss://localhost:1", httpsCACert: "/x", clientCert: "/x", clientKey: "/x", imageType: "robot",
                bootGuard: bench.configuration())
            let facts = DeviceFacts(hostname: "vm", runningImageFile: bench.runningFile, imageDir: bench.imageDir)
            let agent = Agent(configuration: configuration, facts: facts, actions: bench.actions, logger: Logger(label: "t"))
            let bootGuard = try #require(await agent.bootGuard)
            await agent.checkRollback(bootGuard)

            let expected = RollbackReport(failed: 200, running: 100, reason: "image 200 did not prove itself within 1 boot try", at: 1_800_000_000)
            #expect(await agent.status == "Rolled back from 200: image 200 did not prove itself within 1 boot try")
            let state = try bench.safety.state()
            #expect(state.bad == [200])
            #expect(state.good == [100])
            #expect(state.lastRollback == expected)
            #expect(ImageDirectory(path: bench.imageDir).currentTimestamp() == 100)
            let menu = try String(contentsOfFile: "\(bench.bootDir)/grub/grub.cfg", encoding: .utf8)
            #expect(menu.contains("set default=1\n"))
            #expect(try bench.env()["icon_failed"] == "")

            let report = facts.report(status: await agent.status)
            #expect(report.badImages == [200])
            #expect(report.goodImages == [100])
            #expect(report.lastRollback == expected)
            let json = try #require(try JSONSerialization.jsonObject(with: JSONEncoder().encode(report)) as? [String: Any])
            #expect(json["bad_images"] as? [Int] == [200])
            #expect((json["last_rollback"] as? [String: Any])?["failed"] as? Int == 200)

            // Acknowledged once: the next start finds nothing; the image already good stays quiet.
            #expect(try bootGuard.checkRollback() == nil)
            await agent.proveRunningImage(bootGuard)
            #expect(await agent.status == "Rolled back from 200: image 200 did not prove itself within 1 boot try")
        }
    }

    @Test func agentStatusShowsTheImageMarkedGood() async throws {
        try await withTemporaryDirectory { dir in
            let bench = try BootBench(dir, images: [100, 200], running: 200)
            try bench.safety.markFirstImageGood(100)
            try bench.safety.recordSwitch(to: 200, bootTries: 3)
            let configuration = AgentConfiguration(
                serverURL: "wss://localhost:1", httpsCACert: "/x", clientCert: "/x", clientKey: "/x", imageType: "robot",
                bootGuard: bench.configuration())
            let facts = DeviceFacts(hostname: "vm", runningImageFile: bench.runningFile, imageDir: bench.imageDir)
            let agent = Agent(configuration: configuration, facts: facts, actions: bench.actions, logger: Logger(label: "t"))
            await agent.proveRunningImage(try #require(await agent.bootGuard))
            #expect(await agent.status == "Image 200 marked good")
            #expect(facts.report(status: nil).goodImages == [100, 200])
        }
    }

    @Test func switchingBackToTheGoodImageLeavesNothingPending() async throws {
        try await withTemporaryDirectory { dir in
            let bench = try BootBench(dir, images: [100, 200], running: 200)
            try bench.safety.markFirstImageGood(100)
            try bench.safety.recordSwitch(to: 200, bootTries: 1)
            try bench.safety.recordSwitch(to: 100, bootTries: 1)
            #expect(try bench.env()["icon_pending"] == "")
            expectIconError(.invalidArgument) { try bench.safety.recordSwitch(to: 200, bootTries: 0) }
            expectIconError(.invalidArgument) { try bench.safety.recordSwitch(to: 200, bootTries: 10) }
        }
    }

    @Test func configurationIsValidated() {
        let base = BootGuardConfiguration(bootDir: "/b", imageDir: "/b/i")
        #expect(throws: Never.self) { try base.validate() }
        var bad = base
        bad.healthTimeout = .seconds(30)
        expectIconError(.invalidArgument) { try bad.validate() }
        bad = base
        bad.bootTries = 0
        expectIconError(.invalidArgument) { try bad.validate() }
    }
}
