import Foundation
import NIOCore
import NIOPosix
import NIOSSL
import NIOTLS
import Synchronization

/// A bare client connection to a test server, raw TCP or TLS: it writes exactly the bytes it is
/// given (malformed requests, a header a byte at a time), keeps what it receives and notes when
/// the server closes it. With ``stopReading()`` it becomes a client that reads nothing more.
final class RawConnection: Sendable {
    private struct State {
        var received: [UInt8] = []
        var handshakeDone = false
        var closed = false
    }

    /// What the connection and its handler share.
    private final class Shared: Sendable {
        let state = Mutex(State())
        func withLock<T>(_ body: (inout State) -> T) -> T { state.withLock { body(&$0) } }
    }

    private final class Recorder: ChannelInboundHandler, Sendable {
        typealias InboundIn = ByteBuffer
        let state: Shared
        let stallAfterHead: Bool
        init(state: Shared, stallAfterHead: Bool) {
            self.state = state
            self.stallAfterHead = stallAfterHead
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            let bytes = Array(buffer: unwrapInboundIn(data))
            let headSeen = state.withLock { state in
                // What a test checks is at the start; the rest of a big body is not kept.
                state.received += bytes.prefix(max(0, RawConnection.keptBytes - state.received.count))
                return state.received.firstRange(of: Array("\r\n\r\n".utf8)) != nil
            }
            if stallAfterHead, headSeen {
                try? context.channel.syncOptions?.setOption(ChannelOptions.autoRead, value: false)
            }
        }

        func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
            if case TLSUserEvent.handshakeCompleted = event { state.withLock { $0.handshakeDone = true } }
            context.fireUserInboundEventTriggered(event)
        }

        func channelInactive(context: ChannelHandlerContext) {
            state.withLock { $0.closed = true }
            context.fireChannelInactive()
        }

        func errorCaught(context: ChannelHandlerContext, error: any Error) {
            context.close(promise: nil)
        }
    }

    /// How much of what is received is kept.
    static let keptBytes = 1 << 20

    let channel: any Channel
    private let state: Shared

    private init(channel: any Channel, state: Shared) {
        self.channel = channel
        self.state = state
    }

    /// Connects to `127.0.0.1:port`; with `tls`, waits (up to 30 s: the suite may share a loaded machine) for the TLS handshake.
    /// Server names are not checked: the test PKI's server certificate is trusted by its root alone.
    /// With `stallAfterHead`, the connection stops reading once a response head has arrived
    /// (a client that asks for a file and reads none of it).
    static func connect(port: Int, tls: TLSConfiguration? = nil, stallAfterHead: Bool = false) async throws -> RawConnection {
        let context: NIOSSLContext? = try tls.map { configuration in
            var configuration = configuration
            configuration.certificateVerification = .noHostnameVerification
            return try NIOSSLContext(configuration: configuration)
        }
        let state = Shared()
        let recorder = Recorder(state: state, stallAfterHead: stallAfterHead)
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    if let context {
                        try channel.pipeline.syncOperations.addHandler(NIOSSLClientHandler(context: context, serverHostname: nil))
                    }
                    try channel.pipeline.syncOperations.addHandler(recorder)
                }
            }
            .connect(host: "127.0.0.1", port: port).get()
        let connection = RawConnection(channel: channel, state: state)
        if tls != nil {
            let deadline = ContinuousClock.now + .seconds(30)
            while !connection.handshakeDone, !connection.isClosed, ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(5))
            }
            guard connection.handshakeDone else {
                connection.close()
                throw RawConnectionError.handshakeFailed
            }
        }
        return connection
    }

    enum RawConnectionError: Error { case handshakeFailed }

    var handshakeDone: Bool { state.withLock { $0.handshakeDone } }
    var isClosed: Bool { state.withLock { $0.closed } }
    var received: [UInt8] { state.withLock { $0.received } }
    var receivedText: String { String(decoding: received, as: UTF8.self) }

    /// The status code of the first response received, if its status line has arrived.
    var status: Int? {
        let text = receivedText
        guard text.hasPrefix("HTTP/1.1 "), text.count >= 12 else { return nil }
        return Int(text.dropFirst(9).prefix(3))
    }

    func write(_ text: String) async throws { try await write(Array(text.utf8)) }

    func write(_ bytes: [UInt8]) async throws {
        try await channel.writeAndFlush(channel.allocator.buffer(bytes: bytes)).get()
    }

    /// Stops reading from the socket: what the server sends then stays in the kernel's buffers.
    func stopReading() async throws {
        try await channel.setOption(ChannelOptions.autoRead, value: false).get()
    }

    /// Waits up to `timeout` for the server to close the connection; `true` when it did.
    func waitClosed(timeout: Duration) async -> Bool {
        let deadline = ContinuousClock.now + timeout
        while !isClosed, ContinuousClock.now < deadline { try? await Task.sleep(for: .milliseconds(10)) }
        return isClosed
    }

    /// Waits up to `timeout` until `predicate` holds for what was received.
    func waitReceived(timeout: Duration, _ predicate: (String) -> Bool) async -> Bool {
        let deadline = ContinuousClock.now + timeout
        while !predicate(receivedText), !isClosed, ContinuousClock.now < deadline {
            try? await Task.sleep(for: .milliseconds(10))
        }
        return predicate(receivedText)
    }

    func close() { channel.close(promise: nil) }
}
