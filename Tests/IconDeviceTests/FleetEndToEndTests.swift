import Foundation
@testable import IconAgent
import IconBoot
import IconCore
import IconManifest
import IconPKI
import IconProtocol
import IconServer
import IconTestSupport
@testable import IconUpdate
import Logging
import NIOSSL
import ServiceLifecycle
import Testing
import X509

/// A real `ImageServer`, real `Agent`s with `Fetcher`-backed actions, and an operator, all
/// over mutual TLS on loopback.
@Suite struct FleetEndToEndTests {
    static let quiet = Logger(label: "e2e") { _ in SwiftLogNoOpLogHandler() }
    static let imageType = "demo"  // FetchEnvironment serves its images from server/demo.

    /// Counts the reboots an agent asked for.
    actor Reboots {
        var count = 0
        func reboot() { count += 1 }
    }

    /// One machine: its own image directory, running-image file and certificate chain.
    struct Machine {
        let hostname: String
        let agent: Agent
        let reboots: Reboots
        let imageDir: String
    }

    /// A machine with its agent; with `bootSafety`, the agent marks its running image good at
    /// once (no delay, no health command) and new images get two boot tries.
    static func makeMachine(_ hostname: String, env: FetchEnvironment, port: Int, bootSafety: Bool = false) throws -> Machine {
        let root = env.temp.join(hostname)
        let imageDir = root + "/iconograph"
        try FileManager.default.createDirectory(atPath: imageDir, withIntermediateDirectories: true)
        let identity = try env.pki.issueLeaf(name: hostname, file: hostname, usages: [.clientAuth], names: [.dnsName(hostname)])
        let chain = root + "/chain.pem"
        let pem = try String(contentsOfFile: identity.certPath, encoding: .utf8) + "\n"
            + String(contentsOfFile: env.pki.intermediate.certPath, encoding: .utf8)
        try pem.write(toFile: chain, atomically: true, encoding: .utf8)
        let running = root + "/iconograph.json"
        try Data(#"{"image_type":"demo","timestamp":1000,"volume_id":"TEST_1000","build":"b7"}"#.utf8)
            .write(to: URL(fileURLWithPath: running))
        let fetcher = FetcherConfiguration(
            baseURL: "https://localhost:\(port)/image/\(imageType)", manifestTrustRoots: env.pki.root.certPath,
            imageDir: imageDir, httpsCACert: env.pki.root.certPath, httpsClientCert: chain,
            httpsClientKey: identity.keyPath, hostname: hostname, runningImageFile: running, bootTries: 2,
            connectTimeout: FetchEnvironment.loopbackConnectTimeout)
        let live = AgentActions.live(fetcher: fetcher, bootDir: root, rebootCommand: [], logger: quiet)
        let reboots = Reboots()
        let actions = AgentActions(update: live.update, reboot: { await reboots.reboot() }, catchUp: live.catchUp)
        let configuration = AgentConfiguration(
            serverURL: "wss://localhost:\(port)", httpsCACert: env.pki.root.certPath, clientCert: chain,
            clientKey: identity.keyPath, imageType: imageType, reportInterval: .milliseconds(200),
            backoff: Backoff(initial: .milliseconds(100), maximum: .milliseconds(300)),
            bootGuard: bootSafety
                ? BootGuardConfiguration(
                    bootDir: root, imageDir: imageDir, runningImageFile: running, bootTries: 2, goodAfter: .zero,
                    healthTimeout: .zero)
                : nil)
        let facts = DeviceFacts(hostname: hostname, runningImageFile: running, imageDir: imageDir)
        let agent = Agent(configuration: configuration, facts: facts, actions: actions, logger: quiet)
        return Machine(hostname: hostname, agent: agent, reboots: reboots, imageDir: imageDir)
    }

    static func serverConfiguration(env: FetchEnvironment, port: Int) throws -> ImageServerConfiguration {
        let chain = env.temp.join("server-chain.pem")
        if !FileManager.default.fileExists(atPath: chain) {
            let pem = try String(contentsOfFile: env.pki.server.certPath, encoding: .utf8) + "\n"
                + String(contentsOfFile: env.pki.intermediate.certPath, encoding: .utf8)
            try pem.write(toFile: chain, atomically: true, encoding: .utf8)
        }
        var configuration = ImageServerConfiguration(
            host: "127.0.0.1", port: port, imagePath: env.temp.join("server"), imageTypes: [imageType],
            certificateChainPath: chain, privateKeyPath: env.pki.server.keyPath, clientCAPath: env.pki.root.certPath,
            stateDirectory: env.temp.join("state"), logger: quiet)
        // A handshake on a busy machine can take longer than the default 10 s; no test here is about it.
        configuration.connectionLimits.tlsHandshakeTimeout = TestTiming.duration(.seconds(60))
        configuration.connectionLimits.requestHeaderTimeout = TestTiming.duration(.seconds(60))
        return configuration
    }

    /// Runs a server until `body` returns; `body` gets the server and its port.
    static func withServer<T: Sendable>(
        _ configuration: ImageServerConfiguration, _ body: (ImageServer, Int) async throws -> T
    ) async throws -> T {
        let ports = Loopback.Ports()
        let server = try ImageServer(configuration: configuration) { ports.report($0) }
        let group = ServiceGroup(configuration: .init(services: [server], logger: quiet))
        return try await ports.serve({ try await group.run() }) { port in try await body(server, port) }
    }

    static func operatorTLS(env: FetchEnvironment) throws -> TLSConfiguration {
        let identity = try env.pki.issueLeaf(
            name: "operator-1", file: "operator", usages: [.clientAuth, .init(oid: IconOID.operatorRole)])
        var tls = TLSConfiguration.makeClientConfiguration()
        tls.trustRoots = .certificates(try NIOSSLCertificate.fromPEMFile(env.pki.root.certPath))
        tls.certificateChain = (try NIOSSLCertificate.fromPEMFile(identity.certPath)
            + NIOSSLCertificate.fromPEMFile(env.pki.intermediate.certPath)).map { .certificate($0) }
        tls.privateKey = .privateKey(try NIOSSLPrivateKey(file: identity.keyPath, format: .pem))
        return tls
    }

    static func publish(env: FetchEnvironment, defaultRollout: Int) async throws {
        _ = try await Publisher.publish(
            imageDir: env.serverDir, certPath: env.pki.signer.certPath, keyPath: env.pki.signer.keyPath,
            otherCertPaths: [env.pki.chainPath], defaultRollout: defaultRollout, now: Date())
    }

    @Test(.timeLimit(.minutes(2)))
    func agentServerAndOperatorWorkTogether() async throws {
        try await FetchEnvironment.with { env in
            let operatorTLS = try Self.operatorTLS(env: env)
            // The agents outlive the first server, so they are not children of its scope.
            var agents: [Task<Void, any Error>] = []
            defer { for agent in agents { agent.cancel() } }
            // The first server picks a port; the second binds the same one.
            let port = try await Self.withServer(try Self.serverConfiguration(env: env, port: 0)) { server, port in
                let one = try Self.makeMachine("device-1", env: env, port: port, bootSafety: true)
                let two = try Self.makeMachine("device-2", env: env, port: port)
                agents = [Task { try await one.agent.run() }, Task { try await two.agent.run() }]
                let op = OperatorSocket()
                try await withThrowingTaskGroup(of: Void.self) { tasks in
                    tasks.addTask { try await op.run(port: port, tls: operatorTLS) }
                    defer { tasks.cancelAll() }

                    // Reports reach the operator and the inventory.
                    let first = try #require(await op.waitForReport { $0.hostname == "device-1" })
                    #expect(first.data.imageType == Self.imageType)
                    #expect(first.data.timestamp == 1000)
                    #expect(first.data.iconVersion == IconVersion.string)
                    #expect(first.data.extra["build"] == .string("b7"))
                    #expect(first.data.nextTimestamp == nil)
                    let inventory = try #require(server.inventory)
                    #expect(try await Self.eventually { try await inventory.machine(hostname: "device-1")?.connected == true })

                    // Boot safety: device-1 marks its running image good and reports it.
                    let good = try #require(await op.waitForReport { $0.hostname == "device-1" && $0.goodImages == [1000] })
                    // The status line is the latest event: "marked good", or the outcome of the
                    // update check the agent makes on connecting (nothing is published yet), which
                    // may come just after it.
                    #expect(good.data.status == "Image 1000 marked good" || good.data.status?.hasPrefix("Update failed: not-found") == true)
                    #expect(good.data.badImages == [])
                    let grubenv = GrubEnvironment.path(bootDir: env.temp.join("device-1"))
                    #expect(try GrubEnvironment.read(path: grubenv).timestamp(GrubEnvironment.Key.good) == 1000)

                    // A new manifest is pushed; each agent fetches and reports the new next image.
                    try env.makeImage(2000)
                    try await Self.publish(env: env, defaultRollout: ManifestImage.fullRollout)
                    let fetched = try #require(await op.waitForReport { $0.hostname == "device-1" && $0.nextTimestamp == 2000 })
                    #expect(fetched.data.nextVolumeID == "TEST_2000")
                    #expect(await op.waitForReport { $0.hostname == "device-2" && $0.nextTimestamp == 2000 } != nil)
                    #expect(FileManager.default.fileExists(atPath: one.imageDir + "/2000.iso"))
                    // The switch made 2000 pending with its tries.
                    #expect(try GrubEnvironment.read(path: grubenv).timestamp(GrubEnvironment.Key.pending) == 2000)
                    #expect(try GrubEnvironment.read(path: grubenv)[GrubEnvironment.Key.tries] == "2")
                    #expect(try await Self.eventually { try await inventory.machine(hostname: "device-1")?.nextTimestamp == 2000 })

                    // An image nobody gets by rollout; the operator sends device-1 into it.
                    try env.makeImage(3000)
                    try await Self.publish(env: env, defaultRollout: 0)
                    op.send(.command(Command(target: "device-1", data: CommandData(command: "reboot", timestamp: 3000))))
                    let rebooting = try #require(
                        await op.waitForReport { $0.hostname == "device-1" && $0.status == "Rebooting into 3000..." })
                    #expect(rebooting.data.nextTimestamp == 3000)
                    #expect(try GrubEnvironment.read(path: grubenv).timestamp(GrubEnvironment.Key.pending) == 3000)
                    #expect(try await Self.eventually { await one.reboots.count == 1 })
                    // Only the target obeyed.
                    #expect(await two.reboots.count == 0)
                    #expect(!FileManager.default.fileExists(atPath: two.imageDir + "/3000.iso"))
                    #expect(try await Self.eventually {
                        let audit = try await inventory.audit(limit: 5)
                        return audit.count == 1 && audit[0].delivered && audit[0].target == "device-1"
                            && audit[0].command == CommandData(command: "reboot", timestamp: 3000)
                            && audit[0].operator.contains("CN=operator-1")
                    })
                    #expect(try await Self.eventually {
                        try await inventory.machine(hostname: "device-1")?.lastStatus == "Rebooting into 3000..."
                    })
                }
                return port
            }

            // The server restarts on the same port: the running agents come back by themselves.
            try await Self.withServer(try Self.serverConfiguration(env: env, port: port)) { server, _ in
                let op = OperatorSocket()
                try await withThrowingTaskGroup(of: Void.self) { tasks in
                    tasks.addTask { try await op.run(port: port, tls: operatorTLS) }
                    defer { tasks.cancelAll() }
                    let back = await op.waitForReport { $0.hostname == "device-1" }
                    #expect(back?.data.nextTimestamp == 3000)
                    #expect(await op.waitForReport { $0.hostname == "device-2" } != nil)
                    // The inventory of the first run survived, and the machine is connected again.
                    let inventory = try #require(server.inventory)
                    #expect(try await Self.eventually { try await inventory.machine(hostname: "device-1")?.connected == true })
                    #expect(try await inventory.audit(limit: 5).count == 1)
                }
            }
            // Stop the agents before their directories go.
            for agent in agents {
                agent.cancel()
                _ = await agent.result
            }
        }
    }

    static func eventually(_ condition: @Sendable () async throws -> Bool) async throws -> Bool {
        let deadline = ContinuousClock.now + .seconds(60)
        while ContinuousClock.now < deadline {
            if try await condition() { return true }
            try await Task.sleep(for: .milliseconds(20))
        }
        return try await condition()
    }
}
