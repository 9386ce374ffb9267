import AsyncHTTPClient
import Foundation
import IconPKI
import IconProtocol
@testable import IconServer
import IconTestSupport
import NIOSSL
import NIOWebSocket
import Testing
import WSCore
import X509

/// The hub says why it refuses: a machine reporting under a foreign name hears a close reason,
/// a refused upgrade gets an HTTP status with a one-line body.
@Suite struct HubRefusalTests {
    static let deviceSubject = "CN=device-1,O=Iconograph Test"

    /// The headers of a WebSocket upgrade request, as a client library sends them.
    static func upgradeHeaders(subprotocol: String?) -> [(String, String)] {
        var headers = [
            ("Upgrade", "websocket"), ("Connection", "Upgrade"),
            ("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ=="), ("Sec-WebSocket-Version", "13"),
        ]
        if let subprotocol { headers.append(("Sec-WebSocket-Protocol", subprotocol)) }
        return headers
    }

    static func text(_ response: FetchedResponse) -> String { String(decoding: response.body, as: UTF8.self) }

    @Test func aReportUnderAForeignHostnameClosesWithTheReason() async throws {
        let fixture = try ServerFixture()
        defer { fixture.remove() }
        try await fixture.withServer { port in
            try await fixture.withHubClient(
                port: port, path: "/ws/slave", subprotocol: HubSubprotocol.slave, identity: fixture.pki.device
            ) { device in
                #expect(await device.waitFor { $0 == .imageTypes(["demo"]) } != nil)
                device.send(.report(Report(data: ReportData(hostname: "vm"))))
                let frame = try #require(await device.waitForCloseFrame())
                #expect(frame.closeCode == .policyViolation)
                #expect(frame.reason == "report as 'vm' refused: the certificate names device-1")
            }
            try await fixture.withHubClient(
                port: port, path: "/ws/slave", subprotocol: HubSubprotocol.slave, identity: fixture.pki.device
            ) { device in
                device.send(.report(Report(data: ReportData(status: "no name"))))
                let frame = try #require(await device.waitForCloseFrame())
                #expect(frame.closeCode == .policyViolation)
                #expect(frame.reason == CloseReason.reportWithoutHostname)
            }
        }
        let warnings = fixture.log.messages.filter { $0.contains("closing connection: report as 'vm' refused") }
        #expect(warnings.count == 1)
    }

    @Test func anyHostnameIsAcceptedWhenAllowed() async throws {
        let fixture = try ServerFixture()
        defer { fixture.remove() }
        var configuration = try fixture.configuration()
        configuration.restrictReportHostnames = false
        let operatorID = try fixture.operatorIdentity()
        try await fixture.withServer(configuration) { port in
            try await fixture.withHubClient(
                port: port, path: "/ws/master", subprotocol: HubSubprotocol.master, identity: operatorID
            ) { op in
                try await fixture.withHubClient(
                    port: port, path: "/ws/slave", subprotocol: HubSubprotocol.slave, identity: fixture.pki.device
                ) { device in
                    device.send(.report(Report(data: ReportData(hostname: "vm"))))
                    #expect(await op.waitFor { $0 == .targets(["vm"]) } != nil)
                    #expect(!device.isClosed)
                }
            }
        }
    }

    @Test func closeReasonsFitACloseFrame() {
        let names = (1...20).map { "robot-\($0).fleet.example.net" }
        let long = CloseReason.hostnameRefused(String(repeating: "é", count: 200) + "\u{7}", allowed: names)
        #expect(long.utf8.count <= CloseReason.maximumBytes)
        #expect(long.hasPrefix("report as 'éé"))
        #expect(long.hasSuffix("..."))
        #expect(long.contains("the certificate names robot-1.fleet.example.net, "))
        #expect(CloseReason.hostnameRefused("a\nb", allowed: ["x", "y"]) == "report as 'a?b' refused: the certificate names x, y")
        #expect(CloseReason.reportWithoutHostname.utf8.count <= CloseReason.maximumBytes)
    }

    @Test func refusedUpgradesAndPlainRequestsGetAStatusAndAReason() async throws {
        let fixture = try ServerFixture()
        defer { fixture.remove() }
        let marked = try fixture.pki.issueLeaf(
            name: "robot-17", file: "robot-17", usages: [.clientAuth, .init(oid: IconOID.deviceRole)],
            names: [.dnsName("robot-17")])
        let operatorTLS = try fixture.clientTLS(identity: try fixture.operatorIdentity())
        let deviceTLS = try fixture.clientTLS(identity: fixture.pki.device)
        try await fixture.withServer { port in
            let master = "https://localhost:\(port)/ws/master"
            let slave = "https://localhost:\(port)/ws/slave"
            // Each upgrade attempt on a fresh connection, as WebSocket clients make them (a later
            // request on a kept-alive connection cannot upgrade; Hummingbird redirects it).
            func attempt(_ url: String, _ tls: TLSConfiguration, subprotocol: String?) async throws -> FetchedResponse {
                try await fixture.withClient(tls: tls) { (client: HTTPClient) async throws in
                    try await client.fetch(url, headers: Self.upgradeHeaders(subprotocol: subprotocol))
                }
            }
            // A device asking to upgrade /ws/master, and a plain GET of it: 403 and why.
            let upgrade = try await attempt(master, deviceTLS, subprotocol: HubSubprotocol.master)
            #expect(upgrade.status == 403)
            #expect(upgrade.header("content-type") == "text/plain; charset=utf-8")
            #expect(upgrade.header("connection") == "close")
            #expect(Self.text(upgrade) == "/ws/master needs an operator certificate; \(Self.deviceSubject) is unmarked (no Iconograph role)\n")
            // /ws/slave with the wrong subprotocol, or none: 400 and why.
            let chat = try await attempt(slave, deviceTLS, subprotocol: "chat")
            #expect(chat.status == 400)
            #expect(Self.text(chat) == "/ws/slave needs the WebSocket subprotocol iconograph-slave (Sec-WebSocket-Protocol)\n")
            #expect(try await attempt(slave, deviceTLS, subprotocol: nil).status == 400)
            try await fixture.withClient(tls: deviceTLS) { (client: HTTPClient) async throws in
                let plain = try await client.fetch(master)
                #expect(plain.status == 403)
                #expect(Self.text(plain) == Self.text(upgrade))
                let plainSlave = try await client.fetch(slave)
                #expect(plainSlave.status == 400)
                #expect(Self.text(plainSlave).hasPrefix("/ws/slave is a WebSocket endpoint"))
            }
            let marked = try await attempt(master, try fixture.clientTLS(identity: marked), subprotocol: HubSubprotocol.master)
            #expect(marked.status == 403)
            #expect(Self.text(marked) == "/ws/master needs an operator certificate; CN=robot-17,O=Iconograph Test is a device\n")
            // An operator without the subprotocol, or without an upgrade: 400, not 403.
            let bare = try await attempt(master, operatorTLS, subprotocol: nil)
            #expect(bare.status == 400)
            #expect(Self.text(bare) == "/ws/master needs the WebSocket subprotocol iconograph-master (Sec-WebSocket-Protocol)\n")
            try await fixture.withClient(tls: operatorTLS) { (client: HTTPClient) async throws in
                let plain = try await client.fetch(master)
                #expect(plain.status == 400)
                #expect(Self.text(plain).hasPrefix("/ws/master is a WebSocket endpoint"))
            }
            // A real WebSocket client is refused the same way, and an operator still gets in.
            await #expect(throws: HubTestClientError.self) {
                try await fixture.withHubClient(
                    port: port, path: "/ws/master", subprotocol: HubSubprotocol.master, identity: fixture.pki.device
                ) { _ in }
            }
            try await fixture.withHubClient(
                port: port, path: "/ws/master", subprotocol: HubSubprotocol.master, identity: try fixture.operatorIdentity()
            ) { op in
                #expect(await op.waitFor { $0 == .targets([]) } != nil)
            }
        }
        let log = fixture.log.messages
        #expect(log.contains { $0.contains("hub: refused /ws/master: /ws/master needs an operator certificate") })
        #expect(log.contains { $0.contains("GET /ws/master 403") })
        #expect(!log.contains { $0.contains("Error handling upgrade result") })
    }
}
