import Foundation
import IconProtocol
import IconServer
import IconTestSupport
import NIOSSL
import Testing

/// Each limit of `ConnectionLimits` against a real server on 127.0.0.1, set short through the
/// configuration. Waits are upper bounds for something that must happen, never timing goals.
@Suite struct ConnectionLimitsTests {
    let fixture: ServerFixture

    init() throws { fixture = try ServerFixture() }

    /// The fixture's configuration with `change` applied to its limits.
    func configuration(_ change: (inout ConnectionLimits) -> Void) throws -> ImageServerConfiguration {
        var configuration = try fixture.configuration()
        change(&configuration.connectionLimits)
        return configuration
    }

    var deviceTLS: TLSConfiguration { get throws { try fixture.clientTLS(identity: fixture.pki.device) } }

    @Test func silentConnectionIsClosedAfterTheHandshakeTimeout() async throws {
        defer { fixture.remove() }
        try await fixture.withServer(configuration { $0.tlsHandshakeTimeout = .milliseconds(300) }) { port in
            let silent = try await RawConnection.connect(port: port)
            defer { silent.close() }
            #expect(await silent.waitClosed(timeout: TestTiming.duration(.seconds(10))), "a connection that never starts TLS stays open")
        }
    }

    @Test func slowlorisHeaderIsAnswered408AndClosed() async throws {
        defer { fixture.remove() }
        try await fixture.withServer(configuration { $0.requestHeaderTimeout = .milliseconds(500) }) { port in
            let client = try await RawConnection.connect(port: port, tls: deviceTLS)
            defer { client.close() }
            try await client.write("GET /image/demo/manifest.json HTTP/1.1\r\nHost: localhost\r\n")
            // A header byte every 50 ms: each byte must not restart the clock. Bounded at 10 s.
            for _ in 0..<200 where !client.isClosed {
                try? await client.write("X")
                try await Task.sleep(for: .milliseconds(50))
            }
            #expect(await client.waitClosed(timeout: TestTiming.duration(.seconds(5))))
            #expect(client.status == 408, "got: \(client.receivedText.prefix(80))")
        }
    }

    @Test func keptAliveConnectionIsClosedAfterTheIdleTimeout() async throws {
        defer { fixture.remove() }
        try await fixture.withServer(configuration { $0.idleTimeout = .milliseconds(500) }) { port in
            let client = try await RawConnection.connect(port: port, tls: deviceTLS)
            defer { client.close() }
            try await client.write("GET /image/demo/manifest.json HTTP/1.1\r\nHost: localhost\r\n\r\n")
            #expect(await client.waitReceived(timeout: TestTiming.duration(.seconds(10))) { $0.hasSuffix(#"{"images":[]}"#) })
            #expect(client.status == 200)
            #expect(await client.waitClosed(timeout: TestTiming.duration(.seconds(10))), "an idle kept-alive connection stays open")
        }
    }

    @Test func aSecondRequestOnAKeptAliveConnectionIsServed() async throws {
        defer { fixture.remove() }
        try await fixture.withServer(configuration { $0.requestHeaderTimeout = .seconds(5) }) { port in
            let client = try await RawConnection.connect(port: port, tls: deviceTLS)
            defer { client.close() }
            for _ in 0..<2 {
                try await client.write("GET /image/demo/manifest.json HTTP/1.1\r\nHost: localhost\r\n\r\n")
                try await Task.sleep(for: .milliseconds(100))
            }
            #expect(await client.waitReceived(timeout: TestTiming.duration(.seconds(10))) { $0.components(separatedBy: "HTTP/1.1 200").count == 3 })
            #expect(!client.isClosed)
        }
    }

    @Test func connectionsOverTheTotalCapAreClosedAtAccept() async throws {
        defer { fixture.remove() }
        try await fixture.withServer(configuration { $0.maxConnections = 3 }) { port in
            var held: [RawConnection] = []
            for _ in 0..<3 { held.append(try await RawConnection.connect(port: port)) }
            defer { held.forEach { $0.close() } }
            let extra = try await RawConnection.connect(port: port)
            defer { extra.close() }
            // The server's event loops may accept the four in another order than they were
            // opened: whichever it counts fourth is closed, and only that one.
            let four = held + [extra]
            let deadline = ContinuousClock.now + TestTiming.duration(.seconds(5))
            while !four.contains(where: \.isClosed), ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(20)) }
            try await Task.sleep(for: .milliseconds(200))
            #expect(four.filter(\.isClosed).count == 1, "over a cap of 3, exactly one of four connections is closed")

            // A closed connection frees its place.
            let open = try #require(four.first { !$0.isClosed })
            open.close()
            #expect(await open.waitClosed(timeout: TestTiming.duration(.seconds(5))))
            var admitted: RawConnection?
            for _ in 0..<50 where admitted == nil {
                admitted = try? await RawConnection.connect(port: port, tls: deviceTLS)
                if admitted == nil { try await Task.sleep(for: .milliseconds(100)) }
            }
            let client = try #require(admitted, "no place was freed by closing a connection")
            defer { client.close() }
            try await client.write("GET /image/demo/manifest.json HTTP/1.1\r\nHost: localhost\r\n\r\n")
            #expect(await client.waitReceived(timeout: TestTiming.duration(.seconds(10))) { $0.hasPrefix("HTTP/1.1 200") })
        }
    }

    @Test func perAddressCapCountsOnlyConnectionsWithoutACompletedHandshake() async throws {
        defer { fixture.remove() }
        try await fixture.withServer(configuration { $0.maxUnauthenticatedPerAddress = 2 }) { port in
            // Authenticated connections do not count: four machines behind one address are fine.
            var machines: [RawConnection] = []
            for _ in 0..<4 {
                let machine = try await RawConnection.connect(port: port, tls: deviceTLS)
                machines.append(machine)
                // The client's handshake can end before the server has checked its certificate;
                // an answered request means the server counts it as authenticated.
                try await machine.write("GET /image/demo/manifest.json HTTP/1.1\r\nHost: localhost\r\n\r\n")
                #expect(await machine.waitReceived(timeout: TestTiming.duration(.seconds(10))) { $0.hasPrefix("HTTP/1.1 200") })
            }
            defer { machines.forEach { $0.close() } }
            let silent = [try await RawConnection.connect(port: port), try await RawConnection.connect(port: port)]
            defer { silent.forEach { $0.close() } }
            let extra = try await RawConnection.connect(port: port)
            defer { extra.close() }
            // Whichever of the three the server counts third is closed, and only that one.
            let three = silent + [extra]
            let deadline = ContinuousClock.now + TestTiming.duration(.seconds(5))
            while !three.contains(where: \.isClosed), ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(20)) }
            try await Task.sleep(for: .milliseconds(200))
            #expect(three.filter(\.isClosed).count == 1, "over a cap of 2, exactly one of three connections without TLS is closed")
            #expect(machines.allSatisfy { !$0.isClosed })
            #expect(fixture.log.messages.contains { $0.contains("--max-unauthenticated-per-address") })
        }
    }

    /// Sends `request` and expects `status` followed by the server closing the connection.
    func expectAnswered(_ request: [UInt8], status: Int, port: Int, _ comment: Comment) async throws {
        let client = try await RawConnection.connect(port: port, tls: deviceTLS)
        defer { client.close() }
        try? await client.write(request)
        #expect(await client.waitClosed(timeout: TestTiming.duration(.seconds(10))), "left open: \(comment)")
        #expect(client.status == status, "\(comment): got \(client.receivedText.prefix(80))")
    }

    @Test func malformedRequestsAreAnsweredAndClosed() async throws {
        defer { fixture.remove() }
        try await fixture.withServer { port in
            let get = "GET /image/demo/manifest.json HTTP/1.1\r\nHost: localhost\r\n"
            try await expectAnswered(Array((get + "X-Bad: a\0b\r\n\r\n").utf8), status: 400, port: port, "NUL in a header")
            try await expectAnswered(
                Array((get + "X-Big: " + String(repeating: "a", count: 200_000) + "\r\n\r\n").utf8),
                status: 431, port: port, "a 200 KB header")
            let many = (0..<3_000).map { "X-H\($0): v\r\n" }.joined()
            try await expectAnswered(Array((get + many + "\r\n").utf8), status: 431, port: port, "3,000 headers")
            try await expectAnswered(
                Array(("GET /" + String(repeating: "a", count: 100_000) + " HTTP/1.1\r\nHost: localhost\r\n\r\n").utf8),
                status: 414, port: port, "a 100 KB URL")
            try await expectAnswered(Array("NOT HTTP AT ALL\r\n\r\n".utf8), status: 400, port: port, "garbage")
        }
    }

    @Test func requestWithBareLineFeedsGetsAnAnswer() async throws {
        defer { fixture.remove() }
        try await fixture.withServer { port in
            let client = try await RawConnection.connect(port: port, tls: deviceTLS)
            defer { client.close() }
            try await client.write("GET /image/demo/manifest.json HTTP/1.1\nHost: localhost\nConnection: close\n\n")
            #expect(await client.waitClosed(timeout: TestTiming.duration(.seconds(10))), "a request with LF-only lines is left open")
            #expect(client.status != nil, "no answer: \(client.receivedText.prefix(80))")
        }
    }

    @Test func webSocketPeerThatStopsAnsweringPingsIsClosedAndLeavesTheHub() async throws {
        defer { fixture.remove() }
        try await fixture.withServer(configuration { $0.webSocketPingInterval = .milliseconds(300) }) { port in
            let client = try await RawConnection.connect(port: port, tls: deviceTLS)
            defer { client.close() }
            try await client.write(
                "GET /ws/slave HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                    + "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"
                    + "Sec-WebSocket-Protocol: \(HubSubprotocol.slave)\r\n\r\n")
            #expect(await client.waitReceived(timeout: TestTiming.duration(.seconds(10))) { $0.hasPrefix("HTTP/1.1 101") }, "got: \(client.receivedText.prefix(200))")
            // The client reads the server's pings but never answers them.
            #expect(await client.waitClosed(timeout: TestTiming.duration(.seconds(10))), "a WebSocket peer that answers no ping stays open")
            let left = await waitUntil(timeout: TestTiming.duration(.seconds(5))) { fixture.log.messages.contains { $0.contains("slave disconnected") } }
            #expect(left, "the dead peer did not leave the hub")
        }
    }

    @Test func webSocketIsNotClosedByTheIdleTimeout() async throws {
        defer { fixture.remove() }
        let limits = try configuration {
            $0.idleTimeout = .milliseconds(300)
            $0.webSocketPingInterval = .seconds(30)
        }
        try await fixture.withServer(limits) { port in
            try await fixture.withHubClient(
                port: port, path: "/ws/slave", subprotocol: HubSubprotocol.slave, identity: fixture.pki.device
            ) { device in
                #expect(await device.waitFor { $0 == .imageTypes(["demo"]) } != nil)
                // Silent for several idle timeouts: a WebSocket gets pings instead.
                try await Task.sleep(for: .seconds(2))
                #expect(!device.isClosed, "an upgraded WebSocket was closed by the HTTP idle timeout")
            }
        }
    }

    /// Polls `condition` every 20 ms for up to `timeout`.
    func waitUntil(timeout: Duration, _ condition: () -> Bool) async -> Bool {
        let deadline = ContinuousClock.now + timeout
        while !condition(), ContinuousClock.now < deadline { try? await Task.sleep(for: .milliseconds(20)) }
        return condition()
    }
}
