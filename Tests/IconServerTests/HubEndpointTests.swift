import Foundation
import IconCore
import IconProtocol
import IconServer
import IconTestSupport
import Testing

@Suite struct HubEndpointTests {
    static let deviceSubject = "CN=device-1,O=Iconograph Test"

    @Test func reportsCommandsAndNewManifestsFlowEndToEnd() async throws {
        let fixture = try ServerFixture()
        defer { fixture.remove() }
        let operatorID = try fixture.operatorIdentity()
        try await fixture.withServer { port in
            try await fixture.withHubClient(
                port: port, path: "/ws/master", subprotocol: HubSubprotocol.master, identity: operatorID
            ) { op in
                #expect(await op.waitFor { $0 == .imageTypes(["demo"]) } != nil)
                #expect(await op.waitFor { $0 == .targets([]) } != nil)
                try await fixture.withHubClient(
                    port: port, path: "/ws/slave", subprotocol: HubSubprotocol.slave, identity: fixture.pki.device
                ) { device in
                    #expect(await device.waitFor { $0 == .imageTypes(["demo"]) } != nil)
                    device.send(.report(Report(data: ReportData(hostname: "device-1", uptimeSeconds: 7, extra: ["x": .int(1)]))))
                    #expect(await op.waitFor { $0 == .targets(["device-1"]) } != nil)
                    let forwarded = await op.waitFor {
                        if case .report = $0 { return true }
                        return false
                    }
                    guard case .report(let report) = forwarded else {
                        Issue.record("no report reached the operator")
                        return
                    }
                    #expect(report.data == ReportData(hostname: "device-1", uptimeSeconds: 7, extra: ["x": .int(1)]))
                    #expect(report.client == Self.deviceSubject)
                    #expect(report.id?.count == 36)
                    #expect(abs((report.received ?? 0) - Int(Date().timeIntervalSince1970)) < 60)

                    op.send(.command(Command(target: "device-1", data: CommandData(command: "reboot", timestamp: 1_700_000_000))))
                    let command = await device.waitFor {
                        if case .command = $0 { return true }
                        return false
                    }
                    guard case .command(let delivered) = command else {
                        Issue.record("no command reached the machine")
                        return
                    }
                    #expect(delivered.data == CommandData(command: "reboot", timestamp: 1_700_000_000))
                    #expect(delivered.client == "CN=operator-1,O=Iconograph Test")
                    #expect(delivered.id != nil)

                    // A manifest renamed into the type directory reaches everyone (how fast, for
                    // 10,000 machines, is measured by benchmarks/fleet-load.sh, not here).
                    let demo = fixture.imagePath + "/demo"
                    try Data("{}".utf8).write(to: URL(fileURLWithPath: demo + "/.manifest.json.tmp"))
                    #expect(rename(demo + "/.manifest.json.tmp", demo + "/manifest.json") == 0)
                    #expect(await device.waitFor(timeout: TestTiming.duration(.seconds(30))) { $0 == .newManifest(imageType: "demo") } != nil)
                    #expect(await op.waitFor(timeout: TestTiming.duration(.seconds(30))) { $0 == .newManifest(imageType: "demo") } != nil)
                }
                // The machine left: operators get the shrunken targets list.
                #expect(await op.waitFor { _ in op.messages.last == .targets([]) } != nil)
            }
        }
        #expect(fixture.log.messages.contains { $0.contains("command reboot for device-1 delivered") })
    }

    @Test func deviceCertificateIsRefusedOnMaster() async throws {
        let fixture = try ServerFixture()
        defer { fixture.remove() }
        try await fixture.withServer { port in
            await #expect(throws: HubTestClientError.self) {
                try await fixture.withHubClient(
                    port: port, path: "/ws/master", subprotocol: HubSubprotocol.master, identity: fixture.pki.device
                ) { _ in }
            }
            // The wrong subprotocol is refused too.
            await #expect(throws: HubTestClientError.self) {
                try await fixture.withHubClient(
                    port: port, path: "/ws/slave", subprotocol: "chat", identity: fixture.pki.device
                ) { _ in }
            }
        }
        #expect(fixture.log.messages.contains { $0.contains("refused /ws/master") })
    }

    @Test func badFramesAreDroppedAndHugeOnesClose() async throws {
        let fixture = try ServerFixture()
        defer { fixture.remove() }
        let operatorID = try fixture.operatorIdentity()
        try await fixture.withServer { port in
            try await fixture.withHubClient(
                port: port, path: "/ws/master", subprotocol: HubSubprotocol.master, identity: operatorID
            ) { op in
                try await fixture.withHubClient(
                    port: port, path: "/ws/slave", subprotocol: HubSubprotocol.slave, identity: fixture.pki.device
                ) { device in
                    device.sendRaw("not json")
                    device.sendRaw(#"{"type":"shutdown","data":{}}"#)
                    // (A report under a name the certificate does not carry closes the connection: HubRefusalTests.)
                    device.send(.report(Report(data: ReportData(hostname: "device-1", status: "still here"))))
                    let report = await op.waitFor {
                        if case .report = $0 { return true }
                        return false
                    }
                    guard case .report(let received) = report else {
                        Issue.record("the valid report after bad frames did not arrive")
                        return
                    }
                    #expect(received.data.hostname == "device-1")
                    // Over 1 MiB: the server closes this connection.
                    device.sendRaw(#"{"type":"report","data":{"hostname":"device-1","pad":""# + String(repeating: "x", count: 1 << 20) + #""}}"#)
                    #expect(await device.waitClosed())
                }
                // The operator is still served.
                #expect(await op.waitFor { _ in op.messages.last == .targets([]) } != nil)
                #expect(!op.isClosed)
            }
        }
        let log = fixture.log.messages
        #expect(log.contains { $0.contains("dropped message: frame is not a JSON object") })
        #expect(log.contains { $0.contains("dropped message: unknown message type 'shutdown'") })
    }

    @Test func singleFrameOverOneMebibyteCloses() async throws {
        let fixture = try ServerFixture()
        defer { fixture.remove() }
        try await fixture.withServer { port in
            // A client allowed big frames sends 2 MiB as one frame, as a browser would.
            try await fixture.withHubClient(
                port: port, path: "/ws/slave", subprotocol: HubSubprotocol.slave, identity: fixture.pki.device,
                maxFrameSize: 4 << 20
            ) { device in
                #expect(await device.waitFor { $0 == .imageTypes(["demo"]) } != nil)
                device.sendRaw(String(repeating: "x", count: 2 << 20))
                #expect(await device.waitClosed())
            }
        }
        #expect(fixture.log.messages.contains { $0.contains("closing connection") })
    }

    @Test func floodingClosesTheConnection() async throws {
        let fixture = try ServerFixture()
        defer { fixture.remove() }
        var configuration = try fixture.configuration()
        configuration.maxHubMessagesPerSecond = 5
        try await fixture.withServer(configuration) { port in
            try await fixture.withHubClient(
                port: port, path: "/ws/slave", subprotocol: HubSubprotocol.slave, identity: fixture.pki.device
            ) { device in
                for _ in 0..<20 { device.send(.report(Report(data: ReportData(hostname: "device-1")))) }
                #expect(await device.waitClosed())
            }
        }
        #expect(fixture.log.messages.contains { $0.contains("more than 5 messages a second") })
    }

    @Test func operatorFromASeparateOperatorCA() async throws {
        let fixture = try ServerFixture()
        defer { fixture.remove() }
        let ops = try TestPKI(directory: fixture.directory.join("ops-pki"))
        var configuration = try fixture.configuration()
        configuration.operatorCAPath = try fixture.bundle("ops-ca.pem", [ops.root.certPath, ops.intermediate.certPath])
        try await fixture.withServer(configuration) { port in
            // A plain client certificate from the operator CA (no operator role) is an operator.
            try await fixture.withHubClient(
                port: port, path: "/ws/master", subprotocol: HubSubprotocol.master, identity: ops.device,
                intermediatePath: ops.intermediate.certPath
            ) { op in
                #expect(await op.waitFor { $0 == .targets([]) } != nil)
            }
            // A device of the main CA still is not.
            await #expect(throws: HubTestClientError.self) {
                try await fixture.withHubClient(
                    port: port, path: "/ws/master", subprotocol: HubSubprotocol.master, identity: fixture.pki.device
                ) { _ in }
            }
        }
    }

    @Test func badOperatorCAFileIsNamed() throws {
        let fixture = try ServerFixture()
        defer { fixture.remove() }
        var configuration = try fixture.configuration()
        configuration.operatorCAPath = fixture.directory.join("missing-ops.pem")
        let error = try #require(throws: IconError.self) { try ImageServer(configuration: configuration) }
        #expect(error.code == .notFound)
        #expect(error.message.contains("--operator-ca-cert"))
        #expect(error.message.contains("missing-ops.pem"))
    }
}
