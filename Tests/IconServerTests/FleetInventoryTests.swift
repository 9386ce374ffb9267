import Foundation
import IconCore
import IconProtocol
@testable import IconServer
import IconTestSupport
import Logging
import Testing

@Suite struct FleetInventoryTests {
    static let quiet = Logger(label: "inventory-test") { _ in SwiftLogNoOpLogHandler() }

    /// Runs the inventory's writer for the duration of `body`.
    static func withRunning<T: Sendable>(
        _ inventory: FleetInventory, _ body: @Sendable () async throws -> T
    ) async throws -> T {
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await inventory.run() }
            defer { group.cancelAll() }
            return try await body()
        }
    }

    /// Polls until `condition` holds or ten seconds (scaled by ``TestTiming``) pass.
    static func eventually(_ condition: @Sendable () async throws -> Bool) async throws -> Bool {
        let deadline = ContinuousClock.now + TestTiming.duration(.seconds(10))
        while ContinuousClock.now < deadline {
            if try await condition() { return true }
            try await Task.sleep(for: .milliseconds(10))
        }
        return try await condition()
    }

    static func report(_ host: String, status: String? = nil, next: Int? = nil) -> ReportData {
        ReportData(
            hostname: host, uptimeSeconds: 5, nextTimestamp: next, nextVolumeID: next.map { "V\($0)" }, status: status,
            imageType: "demo", timestamp: 100, volumeID: "V100", extra: ["build": .string("b1")])
    }

    @Test func keepsMachinesAndAuditAcrossRestarts() async throws {
        try await withTemporaryDirectory { dir in
            let state = dir.join("state")
            let first = try FleetInventory(stateDirectory: state, logger: Self.quiet)
            try await Self.withRunning(first) {
                first.record(.connection(hostname: "a", connected: true, at: 10))
                first.record(.report(hostname: "a", data: Self.report("a", status: "Fetching", next: 200), received: 11, client: "CN=a"))
                first.record(.report(hostname: "a", data: Self.report("a", next: 300), received: 12, client: "CN=a"))
                first.record(.connection(hostname: "b", connected: true, at: 20))
                first.record(.report(hostname: "b", data: Self.report("b"), received: 21, client: "CN=b"))
                first.record(.connection(hostname: "b", connected: false, at: 22))
                for n in 1...3 {
                    first.record(
                        .command(
                            AuditEntry(
                                time: 30 + n, operator: "CN=op", target: "a", command: CommandData(command: "reboot", timestamp: n),
                                commandID: "c\(n)", delivered: n != 2, reason: "r\(n)")))
                }
                let done = try await Self.eventually { try await first.audit(limit: 10).count == 3 }
                #expect(done)
            }
            // A new process: nothing is connected any more, everything else is kept.
            let second = try FleetInventory(stateDirectory: state, logger: Self.quiet)
            let machines = try await second.machines()
            #expect(machines.map(\.hostname) == ["b", "a"])
            let a = try #require(try await second.machine(hostname: "a"))
            #expect(a.firstSeen == 10)
            #expect(a.lastReport == 12)
            // The last report had no status: the last one given is kept.
            #expect(a.lastStatus == "Fetching")
            #expect(a.nextTimestamp == 300 && a.nextVolumeID == "V300")
            #expect(a.runningTimestamp == 100 && a.runningVolumeID == "V100")
            #expect(a.imageType == "demo")
            #expect(a.client == "CN=a")
            #expect(a.connected == false)
            #expect(a.report == Self.report("a", next: 300))
            #expect(try await second.machine(hostname: "nobody") == nil)
            let audit = try await second.audit(limit: 2)
            #expect(audit.map(\.commandID) == ["c3", "c2"])
            #expect(audit[1].delivered == false && audit[1].reason == "r2")
            #expect(audit[0].command == CommandData(command: "reboot", timestamp: 3))
            #expect(audit[0].operator == "CN=op" && audit[0].target == "a" && audit[0].time == 33)
        }
    }

    @Test func recordingNeverWaitsForTheWriter() async throws {
        try await withTemporaryDirectory { dir in
            let inventory = try FleetInventory(stateDirectory: dir.join("state"), logger: Self.quiet)
            // No writer running: recording 20,000 reports must still return at once.
            let start = ContinuousClock.now
            for n in 0..<20_000 {
                inventory.record(.report(hostname: "m\(n % 500)", data: Self.report("m\(n % 500)", next: n), received: n, client: "-"))
            }
            #expect(ContinuousClock.now - start < .seconds(60))
            try await Self.withRunning(inventory) {
                let done = try await Self.eventually { try await inventory.machines().count == 500 }
                #expect(done)
                // Only the newest report of each machine in a batch is written.
                let newest = try await Self.eventually { try await inventory.machine(hostname: "m7")?.nextTimestamp == 19_507 }
                #expect(newest)
            }
        }
    }

    @Test func aStateDirectoryThatCannotBeUsedIsNamed() async throws {
        try await withTemporaryDirectory { dir in
            let file = dir.join("file")
            try Data("x".utf8).write(to: URL(fileURLWithPath: file))
            let error = try #require(throws: IconError.self) { try FleetInventory(stateDirectory: file, logger: Self.quiet) }
            #expect(error.code == .io)
            #expect(error.message.contains("--state-dir"))
        }
    }
}
