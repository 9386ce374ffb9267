import AsyncHTTPClient
import Foundation
import IconCore
import IconProtocol
@testable import IconServer
import IconTestSupport
import NIOSSL
import Testing

/// Client chains as real CAs make them: an operator CA with an intermediate, browsers that send
/// only the leaf, and intermediates that must not widen trust.
@Suite struct ClientTrustTests {
    /// A server configuration keeping an inventory, so `/api/machines` answers 200.
    static func configuration(_ fixture: ServerFixture) throws -> ImageServerConfiguration {
        var configuration = try fixture.configuration()
        configuration.stateDirectory = fixture.directory.join("state")
        return configuration
    }

    @Test func anOperatorCAWithAnIntermediateAdmitsByThePresentedChain() async throws {
        let fixture = try ServerFixture()
        defer { fixture.remove() }
        // Two levels, as `icon pki init` makes them; the server is given only the root.
        let ops = try TestPKI(directory: fixture.directory.join("ops-pki"))
        var configuration = try Self.configuration(fixture)
        configuration.operatorCAPath = ops.root.certPath
        let operatorTLS = try fixture.clientTLS(identity: ops.device, chainPaths: [ops.intermediate.certPath])
        try await fixture.withServer(configuration) { port in
            try await fixture.withClient(tls: operatorTLS) { (client: HTTPClient) async throws in
                #expect(try await client.fetch("https://localhost:\(port)/api/machines").status == 200)
            }
            try await fixture.withHubClient(
                port: port, path: "/ws/master", subprotocol: HubSubprotocol.master, identity: ops.device, tls: operatorTLS
            ) { op in
                #expect(await op.waitFor { $0 == .targets([]) } != nil)
            }
            // A device of the device CA is still no operator.
            try await fixture.withClient { (client: HTTPClient) async throws in
                let refused = try await client.fetch("https://localhost:\(port)/api/machines")
                #expect(refused.status == 403)
                #expect(String(decoding: refused.body, as: UTF8.self).contains("needs an operator certificate"))
            }
            await #expect(throws: HubTestClientError.self) {
                try await fixture.withHubClient(
                    port: port, path: "/ws/master", subprotocol: HubSubprotocol.master, identity: fixture.pki.device
                ) { _ in }
            }
        }
    }

    /// `GET path` with `openssl s_client` (TLS 1.2, so the session can be resumed by id),
    /// presenting `identity` with `chain`; returns what it printed.
    static func sClient(
        _ fixture: ServerFixture, port: Int, path: String, identity: TestPKI.Identity, chain: String, session: [String]
    ) throws -> String {
        let request = fixture.directory.join("request.txt")
        try Data("GET \(path) HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n".utf8).write(to: URL(fileURLWithPath: request))
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments =
            [
                "openssl", "s_client", "-connect", "127.0.0.1:\(port)", "-servername", "localhost", "-tls1_2", "-ign_eof",
                "-CAfile", fixture.pki.root.certPath, "-cert", identity.certPath, "-cert_chain", chain, "-key", identity.keyPath,
            ] + session
        process.standardInput = try FileHandle(forReadingFrom: URL(fileURLWithPath: request))
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return String(decoding: data, as: UTF8.self)
    }

    @Test(.requiresExecutable("openssl", package: "openssl"))
    func anOperatorCAOperatorStaysAnOperatorOnAResumedSession() async throws {
        let fixture = try ServerFixture()
        defer { fixture.remove() }
        let ops = try TestPKI(directory: fixture.directory.join("ops-pki"))
        var configuration = try Self.configuration(fixture)
        configuration.operatorCAPath = ops.root.certPath
        let session = fixture.directory.join("session.pem")
        try await fixture.withServer(configuration) { port in
            let first = try Self.sClient(
                fixture, port: port, path: "/api/machines", identity: ops.device, chain: ops.intermediate.certPath,
                session: ["-sess_out", session])
            #expect(first.contains("New, TLSv1.2"))
            #expect(first.contains("HTTP/1.1 200"))
            // Resumed: no certificate is exchanged and the handshake verifies nothing.
            let resumed = try Self.sClient(
                fixture, port: port, path: "/api/machines", identity: ops.device, chain: ops.intermediate.certPath,
                session: ["-sess_in", session])
            #expect(resumed.contains("Reused, TLSv1.2"))
            #expect(resumed.contains("HTTP/1.1 200"))
        }
    }

    @Test func aLeafOnlyClientIsCompletedFromTheServerChain() async throws {
        let fixture = try ServerFixture()
        defer { fixture.remove() }
        // --ca-cert is the root alone; --cert is server leaf + intermediate (the default fixture).
        let configuration = try Self.configuration(fixture)
        let operatorTLS = try fixture.clientTLS(identity: try fixture.operatorIdentity(), chainPaths: [])
        let deviceTLS = try fixture.clientTLS(identity: fixture.pki.device, chainPaths: [])
        try await fixture.withServer(configuration) { port in
            try await fixture.withClient(tls: operatorTLS) { (client: HTTPClient) async throws in
                #expect(try await client.fetch("https://localhost:\(port)/api/machines").status == 200)
            }
            try await fixture.withClient(tls: deviceTLS) { (client: HTTPClient) async throws in
                #expect(try await client.fetch("https://localhost:\(port)/image/demo/blob.bin").status == 200)
            }
        }
        let log = fixture.log.messages
        #expect(!log.contains { $0.contains("Error handling upgrade result") })
        #expect(!log.contains { $0.contains("tls: refused") })
    }

    @Test func withoutTheIntermediateInTheServerChainALeafOnlyClientIsRefused() async throws {
        let fixture = try ServerFixture()
        defer { fixture.remove() }
        var configuration = try Self.configuration(fixture)
        configuration.certificateChainPath = fixture.pki.server.certPath
        var deviceTLS = try fixture.clientTLS(identity: fixture.pki.device, chainPaths: [])
        // The server sends its leaf alone too; let the client complete that chain itself.
        deviceTLS.trustRoots = .certificates(
            try NIOSSLCertificate.fromPEMFile(fixture.pki.root.certPath) + NIOSSLCertificate.fromPEMFile(fixture.pki.intermediate.certPath))
        try await fixture.withServer(configuration) { port in
            try await fixture.withClient(tls: deviceTLS) { (client: HTTPClient) async throws in
                await #expect(throws: (any Error).self) { try await client.fetch("https://localhost:\(port)/image/demo/blob.bin") }
            }
        }
        let log = fixture.log.messages
        #expect(log.contains { $0.contains("holds only the server certificate") })
        #expect(log.contains { $0.contains("tls: refused client certificate") })
    }

    @Test func intermediatesDoNotWidenTrust() async throws {
        let fixture = try ServerFixture()
        defer { fixture.remove() }
        let foreign = try TestPKI(directory: fixture.directory.join("foreign-pki"))
        var configuration = try Self.configuration(fixture)
        // The foreign intermediate sits beside our root and in the server's chain file; its root does not.
        configuration.clientCAPath = try fixture.bundle("client-ca.pem", [fixture.pki.root.certPath, foreign.intermediate.certPath])
        configuration.certificateChainPath = try fixture.bundle(
            "server-chain-plus.pem", [fixture.pki.server.certPath, fixture.pki.intermediate.certPath, foreign.intermediate.certPath])
        try await fixture.withServer(configuration) { port in
            for chain in [[foreign.intermediate.certPath], []] {
                let tls = try fixture.clientTLS(identity: foreign.device, chainPaths: chain)
                try await fixture.withClient(tls: tls) { (client: HTTPClient) async throws in
                    await #expect(throws: (any Error).self) { try await client.fetch("https://localhost:\(port)/image/demo/blob.bin") }
                }
            }
            // Our own device still gets in.
            try await fixture.withClient { (client: HTTPClient) async throws in
                #expect(try await client.fetch("https://localhost:\(port)/image/demo/blob.bin").status == 200)
            }
        }
        #expect(fixture.log.messages.contains { $0.contains("tls: refused client certificate") })
    }

    @Test func onlyServerChainCAsLeadingToAConfiguredRootHelp() throws {
        let fixture = try ServerFixture()
        defer { fixture.remove() }
        let foreign = try TestPKI(directory: fixture.directory.join("foreign-pki"))
        let pki = fixture.pki
        let chain = [pki.server.certificate, pki.intermediate.certificate, foreign.intermediate.certificate, pki.signer.certificate]
        #expect(ClientTrust.caCertificates(in: chain, leadingTo: [pki.root.certificate]) == [pki.intermediate.certificate])
        #expect(ClientTrust.caCertificates(in: chain, leadingTo: [foreign.root.certificate]) == [foreign.intermediate.certificate])
        #expect(ClientTrust.caCertificates(in: chain, leadingTo: []).isEmpty)
    }

    @Test func aCAFileWithoutARootIsRefusedAtStart() throws {
        let fixture = try ServerFixture()
        defer { fixture.remove() }
        var configuration = try fixture.configuration()
        configuration.clientCAPath = fixture.pki.intermediate.certPath
        let error = try #require(throws: IconError.self) { try ImageServer(configuration: configuration) }
        #expect(error.code == .invalidArgument)
        #expect(error.message.contains("--client-ca-cert \(fixture.pki.intermediate.certPath) holds no self-signed root"))
        configuration = try fixture.configuration()
        configuration.operatorCAPath = fixture.pki.intermediate.certPath
        let operatorError = try #require(throws: IconError.self) { try ImageServer(configuration: configuration) }
        #expect(operatorError.code == .invalidArgument)
        #expect(operatorError.message.contains("--operator-ca-cert"))
    }
}
