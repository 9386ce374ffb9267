import AsyncHTTPClient
import Foundation
import IconProtocol
import IconServer
import IconTestSupport
import Testing

@Suite struct InventoryAPITests {
    static func json(_ response: FetchedResponse) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(response.body)) as? [String: Any])
    }

    @Test func reportsAndCommandsReachTheInventoryAndTheAPI() async throws {
        let fixture = try ServerFixture()
        defer { fixture.remove() }
        let operatorID = try fixture.operatorIdentity()
        let operatorTLS = try fixture.clientTLS(identity: operatorID)
        var configuration = try fixture.configuration()
        configuration.stateDirectory = fixture.directory.join("state")
        try await fixture.withServer(configuration) { port in
            try await fixture.withHubClient(
                port: port, path: "/ws/master", subprotocol: HubSubprotocol.master, identity: operatorID
            ) { op in
                try await fixture.withHubClient(
                    port: port, path: "/ws/slave", subprotocol: HubSubprotocol.slave, identity: fixture.pki.device
                ) { device in
                    device.send(
                        .report(
                            Report(
                                data: ReportData(
                                    hostname: "device-1", uptimeSeconds: 9, nextTimestamp: 200, nextVolumeID: "V200",
                                    status: "Fetched 200", imageType: "demo", timestamp: 100, volumeID: "V100",
                                    goodImages: [90, 100], badImages: [150],
                                    lastRollback: RollbackReport(
                                        failed: 150, running: 100, reason: "image 150 did not prove itself within 1 boot try",
                                        at: 1_800_000_000)))))
                    #expect(await op.waitFor { $0 == .targets(["device-1"]) } != nil)
                    op.send(.command(Command(target: "device-1", data: CommandData(command: "reboot", timestamp: 200))))
                    op.send(.command(Command(target: "ghost", data: CommandData(command: "reboot"))))
                    #expect(await device.waitFor { if case .command = $0 { true } else { false } } != nil)

                    try await fixture.withClient(tls: operatorTLS) { (client: HTTPClient) async throws in
                        let base = "https://localhost:\(port)/api"
                        var entries: [[String: Any]] = []
                        for _ in 0..<200 where entries.count < 2 {
                            entries = try Self.json(try await client.fetch("\(base)/audit?limit=10"))["entries"] as? [[String: Any]] ?? []
                            try await Task.sleep(for: .milliseconds(10))
                        }
                        #expect(entries.count == 2)
                        // Newest first: the command for the machine that is not connected.
                        #expect(entries.first?["target"] as? String == "ghost")
                        #expect(entries.first?["delivered"] as? Bool == false)
                        #expect((entries.first?["reason"] as? String)?.contains("no machine named 'ghost'") == true)
                        #expect(entries.last?["delivered"] as? Bool == true)
                        #expect(entries.last?["operator"] as? String == "CN=operator-1,O=Iconograph Test")
                        #expect((entries.last?["command"] as? [String: Any])?["timestamp"] as? Int == 200)
                        let limited = try Self.json(try await client.fetch("\(base)/audit?limit=1"))["entries"] as? [Any]
                        #expect(limited?.count == 1)
                        #expect(try await client.fetch("\(base)/audit?limit=abc").status == 400)

                        let machines = try Self.json(try await client.fetch("\(base)/machines"))["machines"] as? [[String: Any]]
                        let machine = try #require(machines?.first)
                        #expect(machine["hostname"] as? String == "device-1")
                        #expect(machine["connected"] as? Bool == true)
                        #expect(machine["last_status"] as? String == "Fetched 200")
                        #expect(machine["next_timestamp"] as? Int == 200)
                        #expect(machine["running_volume_id"] as? String == "V100")
                        #expect(machine["image_type"] as? String == "demo")
                        #expect((machine["report"] as? [String: Any])?["uptime_seconds"] as? Int == 9)
                        let one = try await client.fetch("\(base)/machines/device-1")
                        #expect(one.status == 200 && one.header("content-type") == "application/json")
                        #expect(try Self.json(one)["hostname"] as? String == "device-1")
                        // Boot safety: good and bad images and the last rollback come back as sent.
                        for record in [machine, try Self.json(one)] {
                            let report = try #require(record["report"] as? [String: Any])
                            #expect(report["good_images"] as? [Int] == [90, 100])
                            #expect(report["bad_images"] as? [Int] == [150])
                            let rollback = try #require(report["last_rollback"] as? [String: Any])
                            #expect(rollback["failed"] as? Int == 150)
                            #expect(rollback["running"] as? Int == 100)
                            #expect(rollback["at"] as? Int == 1_800_000_000)
                            #expect((rollback["reason"] as? String)?.contains("did not prove itself") == true)
                        }
                        #expect(try await client.fetch("\(base)/machines/ghost").status == 404)
                    }
                    // Devices may not read the inventory.
                    try await fixture.withClient { (client: HTTPClient) async throws in
                        #expect(try await client.fetch("https://localhost:\(port)/api/machines").status == 403)
                        #expect(try await client.fetch("https://localhost:\(port)/api/audit").status == 403)
                    }
                }
            }
        }
    }

    @Test func withoutAStateDirectoryTheAPIIsNotFound() async throws {
        let fixture = try ServerFixture()
        defer { fixture.remove() }
        let operatorTLS = try fixture.clientTLS(identity: try fixture.operatorIdentity())
        try await fixture.withServer { port in
            try await fixture.withClient(tls: operatorTLS) { (client: HTTPClient) async throws in
                #expect(try await client.fetch("https://localhost:\(port)/api/machines").status == 404)
            }
        }
    }
}
