import ArgumentParser
import Foundation
@testable import IconCommands
import IconCore
import IconServer
import IconTestSupport
import Testing

/// `icon server`'s timeout and connection-cap flags.
@Suite struct ServerRunTransportFlagsTests {
    static let required = [
        "--listen", "127.0.0.1:0", "--image-path", "/", "--image-type", "demo",
        "--cert", "/nonexistent/c.pem", "--key", "/nonexistent/k.pem", "--client-ca-cert", "/nonexistent/ca.pem",
    ]

    @Test func defaultsAreTheDocumentedOnes() throws {
        let limits = try ServerRun.parse(Self.required).connectionLimits()
        #expect(limits == ConnectionLimits())
        #expect(limits.tlsHandshakeTimeout == .seconds(10))
        #expect(limits.requestHeaderTimeout == .seconds(10))
        #expect(limits.idleTimeout == .seconds(60))
        #expect(limits.webSocketPingInterval == .seconds(30))
        #expect(limits.maxConnections == 16_384)
        #expect(limits.maxUnauthenticatedPerAddress == 256)
    }

    @Test func flagsSetTheLimits() throws {
        let limits = try ServerRun.parse(Self.required + [
            "--tls-handshake-timeout", "3", "--request-header-timeout", "4", "--idle-timeout", "5",
            "--websocket-ping-interval", "6", "--max-connections", "700", "--max-unauthenticated-per-address", "8",
        ]).connectionLimits()
        #expect(limits.tlsHandshakeTimeout == .seconds(3))
        #expect(limits.requestHeaderTimeout == .seconds(4))
        #expect(limits.idleTimeout == .seconds(5))
        #expect(limits.webSocketPingInterval == .seconds(6))
        #expect(limits.maxConnections == 700)
        #expect(limits.maxUnauthenticatedPerAddress == 8)
    }

    @Test(arguments: [
        ("--tls-handshake-timeout", "0"), ("--request-header-timeout", "0"), ("--idle-timeout", "0"),
        ("--websocket-ping-interval", "0"), ("--max-connections", "0"), ("--max-unauthenticated-per-address", "0"),
    ])
    func aLimitBelowOneIsRefusedNamingItsFlag(flag: String, value: String) async throws {
        let command = try ServerRun.parse(Self.required + [flag, value])
        let error = try await #require(throws: IconError.self) { try await command.run() }
        #expect(error.code == .invalidArgument)
        #expect(error.message.contains(flag), "\(error.message)")
    }

    @Test(.enabled(if: OpenFileLimit.raise() != nil, "the open-file limit is unlimited here: there is nothing to fit"))
    func aCapOverTheOpenFileLimitIsLowered() throws {
        let command = try ServerRun.parse(Self.required + ["--max-connections", "100000000"])
        let files = try #require(OpenFileLimit.raise())
        let fitted = command.fittedToOpenFileLimit(command.connectionLimits())
        #expect(fitted.maxConnections == max(1, files - OpenFileLimit.reserved))
        #expect(command.fittedToOpenFileLimit(ConnectionLimits(maxConnections: 10)).maxConnections == 10)
    }
}

/// What a user sees from the built `icon server` for a limit that makes no sense.
@Suite struct ServerRunTransportFlagsBinaryTests {
    @Test(.requiresIconBinary, .tags(.iconProcess))
    func aZeroTimeoutFailsWithOneLineNamingTheFlag() throws {
        let (status, output) = try ServerRunBinaryTests.run(
            ["server"] + ServerRunTransportFlagsTests.required + ["--request-header-timeout", "0"])
        #expect(status == 1)
        #expect(output.split(separator: "\n").count == 1, "\(output)")
        #expect(output.contains("invalid-argument: --request-header-timeout must be a positive number of seconds"), "\(output)")
    }
}
