import Foundation
import IconAgent
import IconCore
@testable import IconFleetClient
import IconPKI
import IconProtocol
@testable import IconTLS
import IconTestSupport
import Logging
import Synchronization
import Testing
import X509

/// `OperatorSession` against a real server and a real agent on loopback: the path
/// `icon operator reboot` and `icon operator watch` take.
@Suite struct OperatorSessionTests {
    static func operatorFiles(env: FetchEnvironment) throws -> ClientTLSFiles {
        let identity = try env.pki.issueLeaf(
            name: "operator-cli", file: "operator-cli", usages: [.clientAuth, .init(oid: IconOID.operatorRole)])
        let chain = env.temp.join("operator-cli.chain.pem")
        let pem = try String(contentsOfFile: identity.certPath, encoding: .utf8) + "\n"
            + String(contentsOfFile: env.pki.intermediate.certPath, encoding: .utf8)
        try pem.write(toFile: chain, atomically: true, encoding: .utf8)
        return ClientTLSFiles(caCertPath: env.pki.root.certPath, clientCertPath: chain, clientKeyPath: identity.keyPath)
    }

    @Test(.timeLimit(.minutes(2)))
    func rebootCommandReachesTheMachineAndItsAnswerComesBack() async throws {
        try await FetchEnvironment.with { env in
            let files = try Self.operatorFiles(env: env)
            try await FleetEndToEndTests.withServer(try FleetEndToEndTests.serverConfiguration(env: env, port: 0)) { _, port in
                let machine = try FleetEndToEndTests.makeMachine("device-7", env: env, port: port)
                let agent = Task { try await machine.agent.run() }
                defer { agent.cancel() }
                let session = try OperatorSession(
                    server: "wss://localhost:\(port)", serverName: nil, tls: files, logger: FleetEndToEndTests.quiet)
                #expect(session.url == "wss://localhost:\(port)/ws/master")
                // Wait until the hub lists the machine, send the command, stop at its answer.
                let answer = Mutex<String?>(nil)
                let stopped = try await session.run(timeout: .seconds(60)) { message in
                    switch message {
                    case .targets(let targets) where targets.contains("device-7"):
                        return .send([.command(Command(target: "device-7", data: CommandData(command: "reboot")))])
                    case .report(let report) where report.data.hostname == "device-7":
                        guard let status = report.data.status, status.hasPrefix("Rebooting") else { return .continue }
                        answer.withLock { $0 = status }
                        return .stop
                    default:
                        return .continue
                    }
                }
                #expect(stopped)
                #expect(answer.withLock { $0 } == "Rebooting...")
                #expect(await machine.reboots.count == 1)
            }
        }
    }

    @Test(.timeLimit(.minutes(1)))
    func aSessionThatSeesNothingItWantsTimesOut() async throws {
        try await FetchEnvironment.with { env in
            let files = try Self.operatorFiles(env: env)
            try await FleetEndToEndTests.withServer(try FleetEndToEndTests.serverConfiguration(env: env, port: 0)) { _, port in
                let session = try OperatorSession(
                    server: "wss://localhost:\(port)/", serverName: nil, tls: files, logger: FleetEndToEndTests.quiet)
                let stopped = try await session.run(timeout: .seconds(2)) { _ in .continue }
                #expect(!stopped)
            }
        }
    }

    @Test func aServerThatIsNotThereIsANetworkError() async throws {
        try await FetchEnvironment.with { env in
            let files = try Self.operatorFiles(env: env)
            let session = try OperatorSession(server: "wss://localhost:1", serverName: nil, tls: files, logger: FleetEndToEndTests.quiet)
            let error = await #expect(throws: IconError.self) { _ = try await session.run(timeout: .seconds(10)) { _ in .stop } }
            #expect(error?.code == .network)
            #expect(error?.message.hasPrefix("wss://localhost:1/ws/master: connection refused") == true, "\(String(describing: error))")
        }
    }
}
