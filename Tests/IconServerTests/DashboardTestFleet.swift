import AsyncHTTPClient
import Foundation
import IconProtocol
import IconServer
import IconTestSupport
import Logging

/// The fleet the dashboard's browser tests look at: one machine for each thing the page must
/// tell apart, all of image type `kiosk` (images `old` and `new`).
enum DashboardTestFleet {
    static let type = "kiosk"
    static let old = 1_700_000_100
    static let new = 1_700_000_200

    /// Known only from the inventory: reported three hours ago, not connected.
    static let offline = "old-host"
    /// Connected, reports every half second.
    static let live = "device-1"
    /// Connected, reports; boots `new` next while it runs `old`.
    static let pending = "pend-1"
    /// Connected, reports; fell back from `new`, which it marked bad.
    static let rolledBack = "rb-1"
    /// Connected, reported once and then fell silent.
    static let quiet = "quiet-1"
    static let connected = [live, pending, rolledBack, quiet]
    static let all = [live, offline, pending, quiet, rolledBack]

    /// What the agent writes into the status after a fallback (`Agent.checkRollback`).
    static let rollbackStatus = "Rolled back from \(new): image \(new) did not prove itself within 1 boot try"

    /// The `icon --version` every machine's agent reports.
    static let agentVersion = "0.2.0 (commit 0123456789ab)"

    /// The report each machine sends. Manifests expire in 20 days, except the pending
    /// machine's (in a little over 5 hours) and the rolled-back machine's (a minute ago).
    static func report(_ hostname: String) -> ReportData {
        let now = Int(Date().timeIntervalSince1970)
        var data = ReportData(
            hostname: hostname, uptimeSeconds: 3725, nextTimestamp: old, nextVolumeID: "KIOSK-\(old)", status: "ok",
            imageType: type, timestamp: old, volumeID: "KIOSK-\(old)", goodImages: [old], iconVersion: agentVersion,
            manifestExpires: now + 20 * 86_400)
        switch hostname {
        case offline:
            data.timestamp = new
            data.volumeID = "KIOSK-\(new)"
            data.nextTimestamp = new
            data.nextVolumeID = "KIOSK-\(new)"
            data.goodImages = [old, new]
        case pending:
            data.nextTimestamp = new
            data.nextVolumeID = "KIOSK-\(new)"
            data.status = "Fetched \(new); it boots at the next reboot"
            data.manifestExpires = now + 5 * 3_600 + 900
        case rolledBack:
            data.badImages = [new]
            data.lastRollback = RollbackReport(
                failed: new, running: old, reason: "image \(new) did not prove itself within 1 boot try", at: 1_800_000_000)
            data.status = rollbackStatus
            data.manifestExpires = now - 60
        default:
            break
        }
        return data
    }

    /// Writes offline machines (by default the one above) into the inventory in `stateDirectory`
    /// through `FleetInventory` before the server opens it, as a server that heard from them once
    /// would have left them.
    static func seedOfflineMachines(
        _ hostnames: [String] = [offline], stateDirectory: String, lastReport: Int
    ) async throws {
        let inventory = try FleetInventory(
            stateDirectory: stateDirectory, logger: Logger(label: "seed") { _ in SwiftLogNoOpLogHandler() })
        for hostname in hostnames {
            var data = report(offline)
            data.hostname = hostname
            inventory.record(.report(hostname: hostname, data: data, received: lastReport, client: "CN=\(hostname)"))
            inventory.record(.connection(hostname: hostname, connected: false, at: lastReport))
        }
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await inventory.run() }
            // Stopped only once the batch is on disk: a write cut short by cancellation is lost.
            let deadline = ContinuousClock.now + .seconds(10)
            while try await inventory.machines().count(where: { !$0.connected }) < hostnames.count {
                guard ContinuousClock.now < deadline else {
                    throw WebDriverError(description: "the inventory in \(stateDirectory) did not take \(hostnames.count) machines")
                }
                try await Task.sleep(for: .milliseconds(20))
            }
            group.cancelAll()
            try await group.waitForAll()
        }
    }

    /// Connects one machine per hostname to `/ws/slave` (the server must allow any report
    /// hostname), runs `body` with them by hostname, then disconnects them all at once (closing
    /// a hub client takes seconds; one after the other that adds up).
    static func withMachines(
        _ hostnames: [String], fixture: ServerFixture, port: Int,
        _ body: @Sendable ([String: HubTestConnection]) async throws -> Void
    ) async throws {
        let (opened, didOpen) = AsyncStream.makeStream(of: (String, HubTestConnection?).self)
        // One stream per machine: each connection stays open until its stream finishes.
        let releases = hostnames.map { _ in AsyncStream.makeStream(of: Void.self) }
        let releaseAll = { for release in releases { release.continuation.finish() } }
        try await withThrowingTaskGroup(of: Void.self) { group in
            for (hostname, release) in zip(hostnames, releases) {
                group.addTask {
                    do {
                        try await fixture.withHubClient(
                            port: port, path: "/ws/slave", subprotocol: HubSubprotocol.slave, identity: fixture.pki.device
                        ) { machine in
                            didOpen.yield((hostname, machine))
                            for await _ in release.stream {}
                        }
                    } catch {
                        didOpen.yield((hostname, nil))
                        throw error
                    }
                }
            }
            var machines: [String: HubTestConnection] = [:]
            for await (hostname, machine) in opened {
                // A connection that failed: its error comes out of the group below.
                guard let machine else { break }
                machines[hostname] = machine
                if machines.count == hostnames.count { break }
            }
            if machines.count == hostnames.count {
                do {
                    try await body(machines)
                } catch {
                    releaseAll()
                    throw error
                }
            }
            releaseAll()
            try await group.waitForAll()
        }
    }

    /// Polls `/api/machines` until the inventory holds `hostnames`, so the page finds them on load.
    static func waitForInventory(_ hostnames: Set<String>, fixture: ServerFixture, port: Int) async throws {
        let tls = try fixture.clientTLS(identity: try fixture.operatorIdentity())
        try await fixture.withClient(tls: tls) { client in
            let deadline = ContinuousClock.now + .seconds(10)
            var seen: Set<String> = []
            while ContinuousClock.now < deadline {
                let response = try await client.fetch("https://localhost:\(port)/api/machines")
                let json = try JSONSerialization.jsonObject(with: Data(response.body)) as? [String: Any]
                let machines = json?["machines"] as? [[String: Any]] ?? []
                seen = Set(machines.compactMap { $0["hostname"] as? String })
                if hostnames.isSubset(of: seen) { return }
                try await Task.sleep(for: .milliseconds(50))
            }
            throw WebDriverError(description: "the inventory holds \(seen.sorted()), not yet \(hostnames.sorted())")
        }
    }
}

/// Screenshots and other files a test leaves for people to look at.
enum TestArtifacts {
    /// `$ICON_TEST_ARTIFACTS/<name>`, default `<package root>/.build/test-artifacts/<name>`; created.
    static func directory(_ name: String) throws -> String {
        let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().path
        let root = ProcessInfo.processInfo.environment["ICON_TEST_ARTIFACTS"] ?? packageRoot + "/.build/test-artifacts"
        let path = root + "/" + name
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    /// Width and height from a PNG's IHDR chunk, or nil when `data` is not a PNG.
    static func pngSize(_ data: Data) -> (width: Int, height: Int)? {
        let bytes = [UInt8](data.prefix(24))
        guard bytes.count == 24, bytes[0..<8].elementsEqual([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]),
            bytes[12..<16].elementsEqual(Array("IHDR".utf8))
        else { return nil }
        let number = { (range: Range<Int>) in bytes[range].reduce(0) { $0 << 8 | Int($1) } }
        return (number(16..<20), number(20..<24))
    }
}
