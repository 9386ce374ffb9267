import Foundation
@testable import IconAgent
import IconCore
@testable import IconFleetClient
import IconProtocol
@testable import IconTLS
import IconTestSupport
import Logging
import NIOWebSocket
import SwiftASN1
import Synchronization
import Testing
import X509

/// The hub WebSocket client against real TLS servers on loopback: what the agent and an
/// operator see when the server refuses them, and connections by IP address.
@Suite struct HubSocketTests {
    static let localhostIP = GeneralName.ipAddress(ASN1OctetString(contentBytes: [127, 0, 0, 1]))

    /// A device certificate chain for `hostname` (its DNS name) and its key.
    static func deviceFiles(_ env: FetchEnvironment, hostname: String = "device-1") throws -> ClientTLSFiles {
        let identity = try env.pki.issueLeaf(name: hostname, file: "client-\(hostname)", usages: [.clientAuth], names: [.dnsName(hostname)])
        let chain = env.temp.join("client-\(hostname).chain.pem")
        let pem = try String(contentsOfFile: identity.certPath, encoding: .utf8) + "\n"
            + String(contentsOfFile: env.pki.intermediate.certPath, encoding: .utf8)
        try pem.write(toFile: chain, atomically: true, encoding: .utf8)
        return ClientTLSFiles(caCertPath: env.pki.root.certPath, clientCertPath: chain, clientKeyPath: identity.keyPath)
    }

    static func agent(server: String, files: ClientTLSFiles, env: FetchEnvironment, logger: Logger) -> Agent {
        let configuration = AgentConfiguration(
            serverURL: server, httpsCACert: files.caCertPath!, clientCert: files.clientCertPath!,
            clientKey: files.clientKeyPath!, imageType: "demo", reportInterval: .milliseconds(200),
            backoff: Backoff(initial: .milliseconds(50), maximum: .milliseconds(100)))
        let facts = DeviceFacts(hostname: "vm", runningImageFile: env.runningFile, imageDir: env.deviceDir)
        let actions = AgentActions(update: { _ in "updated" }, reboot: {}, catchUp: { nil })
        return Agent(configuration: configuration, facts: facts, actions: actions, logger: logger)
    }

    @Test(.timeLimit(.minutes(1)))
    func agentLogsTheServersCloseReasonAsAnErrorAndKeepsReconnecting() async throws {
        try await FetchEnvironment.with { env in
            var server = HubTestServer(certificate: env.pki.server)
            server.closeCode = .policyViolation
            server.closeReason = "report as 'vm' refused: the certificate names robot-17"
            let files = try Self.deviceFiles(env)
            let log = TestLog()
            let connections = server.slaveConnections
            try await server.run(pki: env.pki) { port in
                let agent = Self.agent(server: "wss://127.0.0.1:\(port)", files: files, env: env, logger: log.logger())
                let running = Task { try await agent.run() }
                defer { running.cancel() }
                let refused = await log.wait { $0.level == .error && $0.message.contains("refused") }
                #expect(refused?.message
                    == "wss://127.0.0.1:\(port)/ws/slave closed the connection: report as 'vm' refused: the certificate names robot-17 (WebSocket close 1008)")
                // Backoff, then the next attempt: the agent does not give up on the server.
                let deadline = ContinuousClock.now + .seconds(20)
                while connections.value < 3, ContinuousClock.now < deadline {
                    try await Task.sleep(for: .milliseconds(20))
                }
                #expect(connections.value >= 3)
                #expect(log.messages(atLeast: .error).allSatisfy { $0.hasSuffix("(WebSocket close 1008)") })
            }
        }
    }

    @Test(.timeLimit(.minutes(1)))
    func aRefusedUpgradeShowsTheServersReason() async throws {
        try await FetchEnvironment.with { env in
            var server = HubTestServer(certificate: env.pki.server)
            server.webSocket = false
            server.refusalBody = "this endpoint needs an operator certificate; CN=robot-17 is a device\r\n\u{1b}[31m"
            let files = try Self.deviceFiles(env)
            let log = TestLog()
            try await server.run(pki: env.pki) { port in
                // The operator's command gets the reason as its error (one line, no control characters).
                let session = try OperatorSession(
                    server: "wss://127.0.0.1:\(port)", serverName: nil, tls: files, logger: log.logger())
                let error = await #expect(throws: IconError.self) { _ = try await session.run(timeout: .seconds(20)) { _ in .stop } }
                #expect(error?.code == .refused)
                #expect(error?.message
                    == "wss://127.0.0.1:\(port)/ws/master refused the connection (HTTP 403 Forbidden): this endpoint needs an operator certificate; CN=robot-17 is a device [31m")
                #expect(error.map { !$0.description.contains("WebSocket upgrade failed") } ?? false)
                // An agent pointed at it logs the same reason as an error and keeps trying.
                let agent = Self.agent(server: "wss://127.0.0.1:\(port)", files: files, env: env, logger: log.logger())
                let running = Task { try await agent.run() }
                defer { running.cancel() }
                let logged = await log.wait { $0.level == .error && $0.message.hasPrefix("refused: ") }
                #expect(logged?.message.contains("CN=robot-17 is a device") == true)
            }
        }
    }

    @Test(.timeLimit(.minutes(1)))
    func anIPAddressInTheCertificateIsEnoughWithoutServerName() async throws {
        try await FetchEnvironment.with { env in
            let ipOnly = try env.pki.issueLeaf(name: "hub by address", file: "ip-only", usages: [.serverAuth], names: [Self.localhostIP])
            let server = HubTestServer(certificate: ipOnly)
            let files = try Self.deviceFiles(env)
            let log = TestLog()
            try await server.run(pki: env.pki) { port in
                // The socket itself: no SNI, the certificate's IP address checked against 127.0.0.1.
                let endpoint = try HubEndpoint.resolve(server: "wss://127.0.0.1:\(port)", serverName: nil, path: "/ws/slave")
                #expect(endpoint.serverName == nil)
                let socket = try await HubSocket.connect(to: endpoint, subprotocol: HubSubprotocol.slave, files: files)
                var iterator = socket.events.makeAsyncIterator()
                #expect(try await iterator.next() == .text(HubTestServer.greeting))
                await socket.close()
                // The agent, as `icon agent --server wss://127.0.0.1:PORT` runs it.
                let agent = Self.agent(server: "wss://127.0.0.1:\(port)", files: files, env: env, logger: log.logger())
                let running = Task { try await agent.run() }
                defer { running.cancel() }
                #expect(await log.wait { $0.message.hasPrefix("connected; reporting every") } != nil)
                #expect(log.messages(atLeast: .warning).isEmpty, "\(log.messages(atLeast: .warning))")
                // An operator session by IP address: the same path, /ws/slave here because this
                // server has no /ws/master.
                let session = try OperatorSession(
                    server: "wss://127.0.0.1:\(port)/ws/slave", serverName: nil, tls: files, logger: log.logger())
                #expect(try await session.run(timeout: .seconds(20)) { _ in .stop })
            }
        }
    }

    @Test(.timeLimit(.minutes(1)))
    func aCertificateWithoutTheAddressIsRefusedClearly() async throws {
        try await FetchEnvironment.with { env in
            let named = try env.pki.issueLeaf(
                name: "hub by name", file: "name-only", usages: [.serverAuth], names: [.dnsName("hub.example")])
            let server = HubTestServer(certificate: named)
            let files = try Self.deviceFiles(env)
            try await server.run(pki: env.pki) { port in
                let endpoint = try HubEndpoint.resolve(server: "wss://127.0.0.1:\(port)", serverName: nil, path: "/ws/slave")
                let error = await #expect(throws: IconError.self) {
                    _ = try await HubSocket.connect(to: endpoint, subprotocol: HubSubprotocol.slave, files: files)
                }
                #expect(error?.code == .tls)
                #expect(error?.message == "wss://127.0.0.1:\(port)/ws/slave: the server's certificate does not name 127.0.0.1; connect by a name it carries, or give that name with --server-name")
                // With --server-name the name it carries is sent and checked instead.
                let byName = try HubEndpoint.resolve(server: "wss://127.0.0.1:\(port)", serverName: "hub.example", path: "/ws/slave")
                let socket = try await HubSocket.connect(to: byName, subprotocol: HubSubprotocol.slave, files: files)
                await socket.close()
            }
        }
    }

    @Test(.timeLimit(.minutes(1)))
    func anOperatorReachesTheRealHubByIPAddress() async throws {
        try await FetchEnvironment.with { env in
            let files = try OperatorSessionTests.operatorFiles(env: env)
            try await FleetEndToEndTests.withServer(try FleetEndToEndTests.serverConfiguration(env: env, port: 0)) { _, port in
                let session = try OperatorSession(
                    server: "wss://127.0.0.1:\(port)", serverName: nil, tls: files, logger: FleetEndToEndTests.quiet)
                let targets = Mutex<[String]?>(nil)
                let stopped = try await session.run(timeout: .seconds(30)) { message in
                    guard case .targets(let list) = message else { return .continue }
                    targets.withLock { $0 = list }
                    return .stop
                }
                #expect(stopped)
                #expect(targets.withLock { $0 } == [])
            }
        }
    }

    @Test func aKeyThatDoesNotMatchItsCertificateFailsBeforeConnecting() async throws {
        try await FetchEnvironment.with { env in
            let good = try Self.deviceFiles(env)
            var files = good
            files.clientKeyPath = env.pki.signer.keyPath
            let expected = "--https-client-key \(env.pki.signer.keyPath) does not match --https-client-cert \(good.clientCertPath!): the key is not the one the certificate was issued for"
            let error = try #require(throws: IconError.self) {
                try OperatorSession(server: "wss://127.0.0.1:1", serverName: nil, tls: files, logger: FleetEndToEndTests.quiet)
            }
            #expect(error.code == .badKey)
            #expect(error.message == expected)
            // The agent ends at start with the same error instead of a reconnect loop.
            let agent = Self.agent(server: "wss://127.0.0.1:1", files: files, env: env, logger: FleetEndToEndTests.quiet)
            let agentError = await #expect(throws: IconError.self) { try await agent.run() }
            #expect(agentError?.code == .badKey)
            #expect(agentError?.message == expected)
        }
    }

    @Test func endpointsTakeIPAddressesAndNamesAlike() throws {
        let named = try HubEndpoint.resolve(server: "wss://images.example.net:8443", serverName: nil, path: "/ws/slave")
        #expect(named == HubEndpoint(
            url: "wss://images.example.net:8443/ws/slave", host: "images.example.net", port: 8443, target: "/ws/slave",
            serverName: "images.example.net"))
        let ip = try HubEndpoint.resolve(server: "wss://10.0.2.2:8443/", serverName: nil, path: "/ws/master")
        #expect(ip.url == "wss://10.0.2.2:8443/ws/master")
        #expect(ip.serverName == nil)
        #expect(try HubEndpoint.resolve(server: "wss://10.0.2.2:8443", serverName: "hub", path: "/ws/master").serverName == "hub")
        let v6 = try HubEndpoint.resolve(server: "wss://[::1]:8443", serverName: nil, path: "/ws/slave")
        #expect(v6.host == "::1")
        #expect(v6.serverName == nil)
        #expect(v6.hostHeader == "[::1]:8443")
        #expect(try HubEndpoint.resolve(server: "wss://h/custom?x=1", serverName: nil, path: "/ws/slave").target == "/custom?x=1")
        #expect(try HubEndpoint.resolve(server: "wss://h", serverName: nil, path: "/ws/slave").port == 443)
        expectIconError(.invalidArgument) { try HubEndpoint.resolve(server: "wss://h", serverName: "10.0.2.2", path: "/ws/slave") }
        expectIconError(.invalidArgument) { try HubEndpoint.resolve(server: "wss://h", serverName: "", path: "/ws/slave") }
        for bad in ["https://images:8443", "ws://images:8443", "wss://", "images:8443"] {
            expectIconError(.invalidArgument, "\(bad)") { try HubEndpoint.resolve(server: bad, serverName: nil, path: "/ws/slave") }
        }
    }

    @Test func closeSummariesAreOneBoundedLine() {
        #expect(HubSocket.Close(code: 1008, reason: "no\nway").summary == "no way (WebSocket close 1008)")
        #expect(HubSocket.Close(code: 1011, reason: "").summary == "WebSocket close 1011")
        #expect(HubSocket.Close(code: nil, reason: "").summary == "closed without a status")
        #expect(HubSocket.Close(code: 1000, reason: "").isOrderly)
        #expect(!HubSocket.Close(code: 1008, reason: "").isOrderly)
        #expect(HubSocket.printable(String(repeating: "é", count: 100), limit: 123).utf8.count <= 123)
    }
}
