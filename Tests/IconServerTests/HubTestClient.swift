import Foundation
import HTTPTypes
import HummingbirdWSClient
import IconPKI
import IconProtocol
import IconTestSupport
import Logging
import NIOSSL
import Synchronization
import X509

/// One open hub WebSocket in a test: what it received, and a way to send.
final class HubTestConnection: Sendable {
    private struct State {
        var frames: [String] = []
        var open = false
        var closed = false
        var failure: String?
        var closeFrame: WebSocketCloseFrame?
    }
    private let state = Mutex(State())
    let outgoing: AsyncStream<String>.Continuation

    init(outgoing: AsyncStream<String>.Continuation) { self.outgoing = outgoing }

    func append(_ text: String) { state.withLock { $0.frames.append(text) } }
    func markOpen() { state.withLock { $0.open = true } }
    func markClosed() { state.withLock { $0.closed = true } }
    var isOpen: Bool { state.withLock { $0.open } }
    var isClosed: Bool { state.withLock { $0.closed } }
    var failure: String? { state.withLock { $0.failure } }
    func fail(_ error: any Error) { state.withLock { $0.failure = String(describing: error) } }
    func recordClose(_ frame: WebSocketCloseFrame?) { state.withLock { $0.closeFrame = frame } }
    /// The close frame the server sent, once the connection is closed.
    var closeFrame: WebSocketCloseFrame? { state.withLock { $0.closeFrame } }
    var messages: [HubMessage] { state.withLock { $0.frames }.compactMap { try? HubMessage.decode($0) } }

    func send(_ message: HubMessage) { outgoing.yield(message.jsonText()) }
    func sendRaw(_ text: String) { outgoing.yield(text) }

    /// Waits up to `timeout` for a received message matching `predicate`.
    func waitFor(
        timeout: Duration = TestTiming.duration(.seconds(30)), _ predicate: (HubMessage) -> Bool
    ) async -> HubMessage? {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if let found = messages.first(where: predicate) { return found }
            try? await Task.sleep(for: .milliseconds(10))
        }
        return messages.first(where: predicate)
    }

    /// Waits up to `timeout` for the close frame the server sent.
    func waitForCloseFrame(timeout: Duration = TestTiming.duration(.seconds(30))) async -> WebSocketCloseFrame? {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline, closeFrame == nil { try? await Task.sleep(for: .milliseconds(10)) }
        return closeFrame
    }

    /// Waits up to `timeout` for the connection to be closed.
    func waitClosed(timeout: Duration = TestTiming.duration(.seconds(30))) async -> Bool {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline, !isClosed { try? await Task.sleep(for: .milliseconds(10)) }
        return isClosed
    }
}

enum HubTestClientError: Error { case closedBeforeOpen(String) }

extension ServerFixture {
    /// Connects to `path` on the hub presenting `identity`, runs `body`, then closes.
    @discardableResult
    func withHubClient<T: Sendable>(
        port: Int, path: String, subprotocol: String, identity: TestPKI.Identity, intermediatePath: String? = nil,
        tls: TLSConfiguration? = nil, maxFrameSize: Int = 1 << 20, _ body: @Sendable (HubTestConnection) async throws -> T
    ) async throws -> T {
        let tls = try tls ?? clientTLS(identity: identity, intermediatePath: intermediatePath)
        let (outgoing, continuation) = AsyncStream.makeStream(of: String.self)
        let connection = HubTestConnection(outgoing: continuation)
        return try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask {
                do {
                    let closeFrame = try await WebSocketClient.connect(
                        url: "wss://127.0.0.1:\(port)\(path)",
                        configuration: .init(
                            maxFrameSize: maxFrameSize, additionalHeaders: [.secWebSocketProtocol: subprotocol],
                            sniHostname: "localhost"),
                        tlsConfiguration: tls,
                        logger: Logger(label: "ws-client") { _ in SwiftLogNoOpLogHandler() }
                    ) { inbound, outbound, _ in
                        connection.markOpen()
                        try await withThrowingTaskGroup(of: Void.self) { inner in
                            inner.addTask {
                                for try await message in inbound.messages(maxSize: 1 << 20) {
                                    if case .text(let text) = message { connection.append(text) }
                                }
                                connection.markClosed()
                            }
                            inner.addTask {
                                for await text in outgoing { try await outbound.writeTextMessage(text) }
                            }
                            // Whichever ends first (server closed, or the test is done) ends the connection.
                            try await inner.next()
                            inner.cancelAll()
                        }
                    }
                    connection.recordClose(closeFrame)
                } catch {
                    connection.fail(error)
                }
                connection.markClosed()
            }
            defer {
                continuation.finish()
                group.cancelAll()
            }
            // Generous: on a loaded 2-core machine the handshake and upgrade alone took over 5 s.
            let deadline = ContinuousClock.now + TestTiming.duration(.seconds(30))
            while !connection.isOpen, !connection.isClosed, ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(10))
            }
            guard connection.isOpen else {
                throw HubTestClientError.closedBeforeOpen(connection.failure ?? "timeout")
            }
            return try await body(connection)
        }
    }

    /// An operator certificate as `icon pki issue` makes it: clientAuth plus the operator role.
    func operatorIdentity() throws -> TestPKI.Identity {
        try pki.issueLeaf(
            name: "operator-1", file: "operator", usages: [.clientAuth, .init(oid: IconOID.operatorRole)])
    }
}
