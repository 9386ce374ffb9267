import AsyncHTTPClient
import Foundation
import IconCore
import IconPKI
import IconProtocol
@testable import IconServer
import IconTestSupport
import NIOWebSocket
import Testing
import WSCore
import X509

/// On a real server: a machine is its certificate (DNS names, else CN), an operator may not
/// report, one connection holds a name, a flood of invented host names stays bounded, and
/// operator endpoints refuse other sites.
@Suite struct HubRefusalIdentityTests {
    static let reboot = CommandData(command: "reboot", timestamp: 7)

    static func isCommand(_ message: HubMessage) -> Bool {
        if case .command = message { return true }
        return false
    }

    /// The probe: a certificate without DNS names (as certserver issued them) reported as
    /// robot-18 while robot-18 was connected, and both heard the operator's reboot.
    @Test func aCNOnlyCertificateCannotReportAsAnotherMachine() async throws {
        let fixture = try ServerFixture()
        defer { fixture.remove() }
        let robot18 = try fixture.pki.issueLeaf(name: "robot-18", file: "robot-18", usages: [.clientAuth], names: [.dnsName("robot-18")])
        let robot7 = try fixture.pki.issueLeaf(name: "robot-7", file: "robot-7", usages: [.clientAuth])
        let operatorID = try fixture.operatorIdentity()
        try await fixture.withServer { port in
            try await fixture.withHubClient(port: port, path: "/ws/master", subprotocol: HubSubprotocol.master, identity: operatorID) { op in
                try await fixture.withHubClient(port: port, path: "/ws/slave", subprotocol: HubSubprotocol.slave, identity: robot18) { real in
                    real.send(.report(Report(data: ReportData(hostname: "robot-18"))))
                    #expect(await op.waitFor { $0 == .targets(["robot-18"]) } != nil)
                    try await fixture.withHubClient(port: port, path: "/ws/slave", subprotocol: HubSubprotocol.slave, identity: robot7) { impostor in
                        impostor.send(.report(Report(data: ReportData(hostname: "robot-18", status: "I am robot-18"))))
                        let frame = try #require(await impostor.waitForCloseFrame())
                        #expect(frame.closeCode == .policyViolation)
                        #expect(frame.reason == "report as 'robot-18' refused: the certificate names robot-7")
                    }
                    // Its own CN is its name.
                    try await fixture.withHubClient(port: port, path: "/ws/slave", subprotocol: HubSubprotocol.slave, identity: robot7) { itself in
                        itself.send(.report(Report(data: ReportData(hostname: "robot-7"))))
                        #expect(await op.waitFor { $0 == .targets(["robot-18", "robot-7"]) } != nil)
                        op.send(.command(Command(target: "robot-18", data: Self.reboot)))
                        let command = await real.waitFor(Self.isCommand)
                        guard case .command(let received)? = command else {
                            Issue.record("robot-18 did not get its reboot")
                            return
                        }
                        #expect(received.target == "robot-18")
                        try await Task.sleep(for: .milliseconds(200))
                        #expect(!itself.messages.contains(where: Self.isCommand))
                    }
                }
            }
        }
        // The impostor's report never became robot-18's status.
        #expect(!fixture.log.messages.contains { $0.contains("I am robot-18") && !$0.contains("refused") })
    }

    @Test func operatorsAndNamelessCertificatesMayNotReport() async throws {
        let fixture = try ServerFixture()
        defer { fixture.remove() }
        let operatorID = try fixture.operatorIdentity()
        let person = try fixture.pki.issueLeaf(name: "Alice Smith", file: "alice", usages: [.clientAuth])
        try await fixture.withServer { port in
            for (identity, reason) in [(operatorID, CloseReason.operatorMayNotReport), (person, CloseReason.noIdentity)] {
                try await fixture.withHubClient(port: port, path: "/ws/slave", subprotocol: HubSubprotocol.slave, identity: identity) { machine in
                    machine.send(.report(Report(data: ReportData(hostname: "operator-1"))))
                    let frame = try #require(await machine.waitForCloseFrame())
                    #expect(frame.closeCode == .policyViolation)
                    #expect(frame.reason == reason)
                }
            }
        }
    }

    @Test func theNewerOfTwoConnectionsHoldsTheName() async throws {
        let fixture = try ServerFixture()
        defer { fixture.remove() }
        let operatorID = try fixture.operatorIdentity()
        let device = fixture.pki.device
        try await fixture.withServer { port in
            try await fixture.withHubClient(port: port, path: "/ws/master", subprotocol: HubSubprotocol.master, identity: operatorID) { op in
                try await fixture.withHubClient(port: port, path: "/ws/slave", subprotocol: HubSubprotocol.slave, identity: device) { older in
                    older.send(.report(Report(data: ReportData(hostname: "device-1"))))
                    #expect(await op.waitFor { $0 == .targets(["device-1"]) } != nil)
                    try await fixture.withHubClient(port: port, path: "/ws/slave", subprotocol: HubSubprotocol.slave, identity: device) { newer in
                        newer.send(.report(Report(data: ReportData(hostname: "device-1", status: "newer"))))
                        let frame = try #require(await older.waitForCloseFrame())
                        #expect(frame.closeCode == .policyViolation)
                        #expect(frame.reason == "a newer connection reports as 'device-1'; this one is closed")
                        op.send(.command(Command(target: "device-1", data: Self.reboot)))
                        #expect(await newer.waitFor(Self.isCommand) != nil)
                        #expect(!older.messages.contains(where: Self.isCommand))
                        #expect(!newer.isClosed)
                    }
                }
            }
        }
    }

    /// The probe: 4 connections sending new 60 KB host names grew the inventory to 221 MB in
    /// 10 s. With --allow-any-report-hostname a certificate now gets 16 names, a connection 4,
    /// and a 60 KB name is refused outright.
    @Test func aHostnameFloodLeavesTheInventoryBounded() async throws {
        let fixture = try ServerFixture()
        defer { fixture.remove() }
        var configuration = try fixture.configuration()
        configuration.restrictReportHostnames = false
        let state = fixture.directory.join("state")
        configuration.stateDirectory = state
        let operatorTLS = try fixture.clientTLS(identity: try fixture.operatorIdentity())
        let label = String(repeating: "h", count: 60)
        let (rows, closes) = try await fixture.withServer(configuration) { port in
            let closes = try await withThrowingTaskGroup(of: [String].self) { group in
                for flooder in 0..<4 {
                    group.addTask {
                        // One 60 KB name, then connections each trying 6 new names of about 200 bytes.
                        var reasons: [String] = [
                            try await fixture.withHubClient(port: port, path: "/ws/slave", subprotocol: HubSubprotocol.slave, identity: fixture.pki.device) { machine -> String in
                                machine.send(.report(Report(data: ReportData(hostname: String(repeating: "x", count: 60_000)))))
                                return await machine.waitForCloseFrame()?.reason ?? "not closed"
                            }
                        ]
                        for connection in 0..<6 {
                            reasons.append(
                                try await fixture.withHubClient(port: port, path: "/ws/slave", subprotocol: HubSubprotocol.slave, identity: fixture.pki.device) { machine -> String in
                                    for name in 0..<6 {
                                        let hostname = "\(flooder)-\(connection)-\(name).\(label).\(label).\(label)"
                                        machine.send(.report(Report(data: ReportData(hostname: hostname, status: String(repeating: "s", count: 4000)))))
                                    }
                                    return await machine.waitForCloseFrame()?.reason ?? "not closed"
                                })
                        }
                        return reasons
                    }
                }
                return try await group.reduce(into: []) { $0 += $1 }
            }
            let rows = try await fixture.withClient(tls: operatorTLS) { (client: HTTPClient) async throws -> (count: Int, bytes: Int) in
                var count = 0
                var bytes = 0
                for _ in 0..<300 where count < 16 {
                    let body = try await client.fetch("https://localhost:\(port)/api/machines").body
                    bytes = body.count
                    count = (try JSONSerialization.jsonObject(with: Data(body)) as? [String: Any])?["machines"].flatMap { $0 as? [Any] }?.count ?? 0
                    if count < 16 { try await Task.sleep(for: .milliseconds(20)) }
                }
                return (count, bytes)
            }
            return (rows, closes)
        }
        #expect(rows.count == 16)
        // Statuses were cut to 1 KiB; the probe's /api/machines was 151 MB.
        #expect(rows.bytes < 256 << 10, "/api/machines is \(rows.bytes) bytes")
        #expect(closes.count == 4 * 7)
        #expect(closes.filter { $0.hasPrefix("report of ") && $0.hasSuffix("bytes refused: at most 16384 are accepted") }.count == 4)
        #expect(!closes.contains("not closed"))
        let files = try FileManager.default.contentsOfDirectory(atPath: state)
        let bytes = try files.reduce(0) { total, name in
            total + ((try FileManager.default.attributesOfItem(atPath: "\(state)/\(name)")[.size] as? Int) ?? 0)
        }
        // 16 rows of at most a 16 KiB report each; the probe grew it by 220 MB.
        #expect(bytes < 2 << 20, "the inventory holds \(bytes) bytes")
        let inventory = try FleetInventory(stateDirectory: state, logger: fixture.log.logger())
        let stored = try inventory.hostnamesByClient()
        #expect(stored.values.reduce(0) { $0 + $1.count } == 16)
        #expect(stored.keys.sorted() == ["CN=device-1,O=Iconograph Test"])
        print("hostname flood: \(rows.count) rows, /api/machines \(rows.bytes) bytes, \(bytes) bytes in \(state)")
    }

    /// The probe: `Origin: https://evil.example` with an operator certificate opened /ws/master.
    @Test func operatorEndpointsRefuseOtherSites() async throws {
        let fixture = try ServerFixture()
        defer { fixture.remove() }
        var configuration = try fixture.configuration()
        configuration.stateDirectory = fixture.directory.join("state")
        configuration.allowedOrigins = ["https://OPS.example.net:8443/"]
        let operatorTLS = try fixture.clientTLS(identity: try fixture.operatorIdentity())
        try await fixture.withServer(configuration) { port in
            let master = "https://localhost:\(port)/ws/master"
            let upgrade = HubRefusalTests.upgradeHeaders(subprotocol: HubSubprotocol.master)
            let evil = try await fixture.withClient(tls: operatorTLS) { (client: HTTPClient) async throws in
                try await client.fetch(master, headers: upgrade + [("Origin", "https://evil.example")])
            }
            #expect(evil.status == 403)
            #expect(
                HubRefusalTests.text(evil)
                    == "/ws/master refuses requests from origin https://evil.example: only this server's own pages and --allowed-origin may use it\n")
            try await fixture.withClient(tls: operatorTLS) { (client: HTTPClient) async throws in
                let api = "https://localhost:\(port)/api/machines"
                let foreign = try await client.fetch(api, headers: [("Origin", "https://localhost:\(port).evil.example")])
                #expect(foreign.status == 403)
                #expect(HubRefusalTests.text(foreign).hasPrefix("/api/machines refuses requests from origin"))
                // Same host, other scheme or port: another origin.
                #expect(try await client.fetch(api, headers: [("Origin", "http://localhost:\(port)")]).status == 403)
                #expect(try await client.fetch(api, headers: [("Origin", "https://localhost:1")]).status == 403)
                #expect(try await client.fetch(api, headers: [("Origin", "null")]).status == 403)
                #expect(try await client.fetch(api, headers: [("Origin", "https://localhost:\(port)")]).status == 200)
                #expect(try await client.fetch(api, headers: [("Origin", "https://ops.example.net:8443")]).status == 200)
                #expect(try await client.fetch(api).status == 200)
                // What WebSocket libraries send; no browser page has such an origin.
                #expect(try await client.fetch(api, headers: [("Origin", "wss://127.0.0.1")]).status == 200)
            }
        }
        expectIconError(.invalidArgument) { try OriginPolicy(allowedOrigins: ["https://ops.example.net/path"]) }
        #expect(OriginPolicy.normalize(origin: "HTTPS://Example.org") == "https://example.org:443")
    }
}
