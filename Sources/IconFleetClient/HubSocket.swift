import Foundation
public import IconCore
public import IconTLS
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL
public import NIOWebSocket

/// A WebSocket to the hub (`/ws/slave` for agents, `/ws/master` for operators), on NIO and
/// NIOSSL directly.
///
/// A small client of its own rather than HummingbirdWSClient's, because that one always sends
/// the URL host as TLS server name, which TLS forbids for IP addresses: here an endpoint
/// without a server name connects with no SNI and NIOSSL checks the server certificate for
/// the IP address connected to. It also keeps what generic clients drop: the status and body
/// of a refused upgrade, and the code and reason of the server's close frame.
public final class HubSocket: Sendable {
    /// What the server sent.
    public enum Event: Sendable, Equatable {
        /// A text message.
        case text(String)
        /// The server's close frame: the last event.
        case closed(Close)
    }

    /// A close frame's status code (nil when it carried none) and reason.
    public struct Close: Sendable, Equatable {
        public var code: UInt16?
        public var reason: String

        /// 1000 normal closure, 1001 going away, or none: an orderly end, not a refusal.
        public var isOrderly: Bool { code == nil || code == 1000 || code == 1001 }

        /// `reason (WebSocket close 1008)`, or a description of the code without a reason.
        public var summary: String {
            let reason = HubSocket.printable(reason, limit: 123)
            guard let code else { return reason.isEmpty ? "closed without a status" : reason }
            return reason.isEmpty ? "WebSocket close \(code)" : "\(reason) (WebSocket close \(code))"
        }
    }

    public let endpoint: HubEndpoint
    /// Every message the server sends, then `.closed` if it sent a close frame; the stream ends
    /// when the connection does (and ending it early closes the connection).
    public let events: AsyncThrowingStream<Event, any Error>
    let channel: any Channel

    init(endpoint: HubEndpoint, channel: any Channel, events: AsyncThrowingStream<Event, any Error>) {
        self.endpoint = endpoint
        self.channel = channel
        self.events = events
    }

    /// The largest message accepted from the server.
    public static let maxMessageBytes = 1 << 20
    /// How much of a refused upgrade's body is kept for the error message.
    public static let maxRefusalBodyBytes = 1024

    /// Connects over TLS and upgrades to a WebSocket.
    ///
    /// - Parameters:
    ///   - endpoint: where; its `serverName` is sent as SNI and checked in the certificate, and
    ///     without one the certificate must carry the IP address connected to.
    ///   - subprotocol: the `Sec-WebSocket-Protocol` to ask for.
    ///   - files: the TLS files (checked before connecting) and their flags for error hints.
    ///   - timeout: how long the TCP connect, the TLS handshake and the upgrade may take.
    ///   - serverNameFlag: the flag that sets the certificate name, for hints.
    /// - Throws: the TLS files' errors (before any connection); `.refused` naming the URL with
    ///   the server's status and reason when it refuses the upgrade; `.network` / `.tls` from
    ///   ``NetworkFailure`` otherwise.
    public static func connect(
        to endpoint: HubEndpoint, subprotocol: String, files: ClientTLSFiles, timeout: Duration = .seconds(10),
        serverNameFlag: String? = "--server-name"
    ) async throws -> HubSocket {
        let failure = NetworkFailure(url: endpoint.url, tls: files, serverNameFlag: serverNameFlag)
        let context: NIOSSLContext
        do {
            context = try NIOSSLContext(configuration: try files.configuration())
        } catch {
            throw failure.iconError(error)
        }
        let (events, continuation) = AsyncThrowingStream<Event, any Error>.makeStream()
        let timeAmount = TimeAmount.nanoseconds(Int64(timeout / .nanoseconds(1)))
        let loop = MultiThreadedEventLoopGroup.singleton.next()
        let upgraded = loop.makePromise(of: Void.self)
        let channel: any Channel
        do {
            channel = try await ClientBootstrap(group: loop)
                .connectTimeout(timeAmount)
                .channelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try Self.configure(
                            channel: channel, endpoint: endpoint, subprotocol: subprotocol, context: context,
                            upgraded: upgraded, continuation: continuation, failure: failure, timeout: timeAmount)
                    }
                }
                .connect(host: endpoint.host, port: endpoint.port)
                .get()
        } catch {
            upgraded.fail(error)
            continuation.finish()
            throw failure.iconError(error)
        }
        do {
            try await upgraded.futureResult.get()
        } catch let refusal as UpgradeRefusal {
            continuation.finish()
            channel.close(promise: nil)
            throw refusal.iconError(url: endpoint.url)
        } catch is UpgradeTimeout {
            continuation.finish()
            channel.close(promise: nil)
            throw IconError(
                .network, "\(endpoint.url): no answer to the TLS handshake and WebSocket upgrade within \(timeout)")
        } catch {
            continuation.finish()
            channel.close(promise: nil)
            throw failure.iconError(error)
        }
        continuation.onTermination = { _ in channel.close(promise: nil) }
        return HubSocket(endpoint: endpoint, channel: channel, events: events)
    }

    /// Sends one text message.
    ///
    /// - Throws: `.network` naming the URL when the connection is gone.
    public func send(_ text: String) async throws {
        let frame = WebSocketFrame(fin: true, opcode: .text, maskKey: .random(), data: ByteBuffer(string: text))
        do {
            try await channel.writeAndFlush(frame).get()
        } catch {
            throw IconError(.network, "\(endpoint.url): the connection is closed", cause: error)
        }
    }

    /// Sends a close frame and closes the connection once the server answers it (or after a
    /// second); errors are of no interest then.
    public func close(code: WebSocketErrorCode = .normalClosure) async {
        var data = channel.allocator.buffer(capacity: 2)
        data.write(webSocketErrorCode: code)
        let frame = WebSocketFrame(fin: true, opcode: .connectionClose, maskKey: .random(), data: data)
        try? await channel.writeAndFlush(frame).get()
        let channel = channel
        channel.eventLoop.scheduleTask(in: .seconds(1)) { channel.close(promise: nil) }
        try? await channel.closeFuture.get()
    }

    /// The pipeline before the upgrade: TLS (SNI only for a name), HTTP with the WebSocket
    /// upgrader, and the handler that sends the request and catches a refusal.
    static func configure(
        channel: any Channel, endpoint: HubEndpoint, subprotocol: String, context: NIOSSLContext,
        upgraded: EventLoopPromise<Void>, continuation: AsyncThrowingStream<Event, any Error>.Continuation,
        failure: NetworkFailure, timeout: TimeAmount
    ) throws {
        let sync = channel.pipeline.syncOperations
        try sync.addHandler(NIOSSLClientHandler(context: context, serverHostname: endpoint.serverName))
        let upgrader = NIOWebSocketClientUpgrader(maxFrameSize: maxMessageBytes) { channel, _ in
            channel.eventLoop.makeCompletedFuture {
                try channel.pipeline.syncOperations.addHandler(
                    HubFrameHandler(continuation: continuation, translate: { failure.iconError($0) }))
            }
        }
        // Bytes that arrive with the 101 response (the hub's greeting, when the server is quick
        // and this machine slow) belong to the WebSocket: forward them, never drop them.
        try sync.addHTTPClientHandlers(
            leftOverBytesStrategy: .forwardBytes,
            withClientUpgrade: (upgraders: [upgrader], completionHandler: { context in
                // Before the WebSocket handlers go in: the request handler only reads HTTP.
                context.pipeline.removeHandler(name: UpgradeRequestHandler.name, promise: nil)
                upgraded.succeed()
            }))
        try sync.addHandler(
            UpgradeRequestHandler(endpoint: endpoint, subprotocol: subprotocol, upgraded: upgraded, timeout: timeout),
            name: UpgradeRequestHandler.name)
    }

    /// `text` as one line of at most `limit` UTF-8 bytes: control characters become spaces,
    /// runs of spaces one, no leading or trailing space.
    public static func printable(_ text: String, limit: Int) -> String {
        var out = ""
        var bytes = 0
        for scalar in text.unicodeScalars {
            let isControl = scalar.value < 0x20 || (0x7F...0x9F).contains(scalar.value)
                || scalar == "\u{2028}" || scalar == "\u{2029}"
            let character: Unicode.Scalar = isControl ? " " : scalar
            if character == " ", out.isEmpty || out.hasSuffix(" ") { continue }
            let size = String(character).utf8.count
            guard bytes + size <= limit else { break }
            out.unicodeScalars.append(character)
            bytes += size
        }
        while out.hasSuffix(" ") { out.removeLast() }
        return out
    }
}

extension IconError.Code {
    /// The server refused a request or connection on purpose (HTTP 401/403, or a WebSocket
    /// closed for a policy violation), with its reason in the message.
    public static let refused: IconError.Code = "refused"
}
