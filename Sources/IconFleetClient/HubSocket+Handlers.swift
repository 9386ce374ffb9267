import Foundation
import IconCore
import NIOCore
import NIOHTTP1
import NIOWebSocket

/// The server answered the upgrade request with something other than 101: its status and the
/// start of its body (`this endpoint needs an operator certificate; ...`).
struct UpgradeRefusal: Error, Sendable, Equatable {
    var status: HTTPResponseStatus
    var body: String

    /// `.refused` for 401/403, `.notFound` for 404, `.network` otherwise, naming the URL.
    func iconError(url: String) -> IconError {
        let reason = HubSocket.printable(body, limit: HubSocket.maxRefusalBodyBytes)
        let statusText = "HTTP \(status.code)" + (status.reasonPhrase.isEmpty ? "" : " \(status.reasonPhrase)")
        switch status.code {
        case 401, 403:
            return IconError(.refused, "\(url) refused the connection (\(statusText))" + (reason.isEmpty ? "" : ": \(reason)"))
        case 404:
            return IconError(
                .notFound,
                "\(url) answered \(statusText)" + (reason.isEmpty ? "" : ": \(reason)")
                    + "; --server names the server, the hub path is added")
        default:
            return IconError(
                .network, "\(url) did not accept the WebSocket upgrade (\(statusText))" + (reason.isEmpty ? "" : ": \(reason)"))
        }
    }
}

/// The connection or TLS handshake took longer than allowed.
struct UpgradeTimeout: Error {}

/// Sends the upgrade request once the connection is up, and turns everything that happens
/// before the upgrade completes (a refusal with its body, an error, the connection closing,
/// the time running out) into a failure of `upgraded`. A successful upgrade removes it.
final class UpgradeRequestHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPClientResponsePart
    typealias OutboundOut = HTTPClientRequestPart

    static let name = "hub-upgrade-request"

    let endpoint: HubEndpoint
    let subprotocol: String
    let upgraded: EventLoopPromise<Void>
    let timeout: TimeAmount
    private var refusal: UpgradeRefusal?
    private var body = ByteBuffer()
    private var timer: Scheduled<Void>?

    init(endpoint: HubEndpoint, subprotocol: String, upgraded: EventLoopPromise<Void>, timeout: TimeAmount) {
        self.endpoint = endpoint
        self.subprotocol = subprotocol
        self.upgraded = upgraded
        self.timeout = timeout
    }

    func handlerAdded(context: ChannelHandlerContext) {
        let upgraded = upgraded
        let channel = context.channel
        timer = context.eventLoop.scheduleTask(in: timeout) {
            upgraded.fail(UpgradeTimeout())
            channel.close(promise: nil)
        }
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        timer?.cancel()
    }

    func channelActive(context: ChannelHandlerContext) {
        var headers = HTTPHeaders()
        headers.add(name: "Host", value: endpoint.hostHeader)
        headers.add(name: "Sec-WebSocket-Protocol", value: subprotocol)
        headers.add(name: "Content-Length", value: "0")
        let head = HTTPRequestHead(version: .http1_1, method: .GET, uri: endpoint.target, headers: headers)
        context.write(wrapOutboundOut(.head(head)), promise: nil)
        context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
        context.fireChannelActive()
    }

    /// Only a refused upgrade gets here: a successful one removes this handler first.
    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            refusal = UpgradeRefusal(status: head.status, body: "")
        case .body(var part):
            let room = HubSocket.maxRefusalBodyBytes - body.readableBytes
            if room > 0, let slice = part.readSlice(length: min(room, part.readableBytes)) {
                body.writeImmutableBuffer(slice)
            }
        case .end:
            guard var refusal else { return }
            refusal.body = String(decoding: body.readableBytesView, as: UTF8.self)
            upgraded.fail(refusal)
            context.close(promise: nil)
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        upgraded.fail(error)
        context.close(promise: nil)
    }

    func channelInactive(context: ChannelHandlerContext) {
        // A refusal whose body never ended still says more than "closed".
        if var refusal {
            refusal.body = String(decoding: body.readableBytesView, as: UTF8.self)
            upgraded.fail(refusal)
        }
        upgraded.fail(ChannelError.eof)
        context.fireChannelInactive()
    }
}

/// The WebSocket after the upgrade: text messages (reassembled from fragments) and the close
/// frame go to the event stream; pings are answered; a server's close is answered and the
/// connection closed, as RFC 6455 asks of a client.
final class HubFrameHandler: ChannelDuplexHandler {
    typealias InboundIn = WebSocketFrame
    typealias OutboundIn = WebSocketFrame
    typealias OutboundOut = WebSocketFrame

    let continuation: AsyncThrowingStream<HubSocket.Event, any Error>.Continuation
    /// Turns a transport error into the `IconError` the stream ends with.
    let translate: @Sendable (any Error) -> IconError
    private var text = ByteBuffer()
    private var inText = false
    private var sentClose = false
    private var receivedClose = false

    init(
        continuation: AsyncThrowingStream<HubSocket.Event, any Error>.Continuation,
        translate: @escaping @Sendable (any Error) -> IconError
    ) {
        self.continuation = continuation
        self.translate = translate
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let frame = unwrapInboundIn(data)
        switch frame.opcode {
        case .text:
            text.clear()
            inText = true
            append(frame, context: context)
        case .continuation where inText:
            append(frame, context: context)
        case .ping:
            let pong = WebSocketFrame(fin: true, opcode: .pong, maskKey: .random(), data: frame.unmaskedData)
            context.writeAndFlush(wrapOutboundOut(pong), promise: nil)
        case .connectionClose:
            receivedClose = true
            var data = frame.unmaskedData
            let code = data.readInteger(as: UInt16.self)
            let reason = data.readString(length: data.readableBytes) ?? ""
            continuation.yield(.closed(HubSocket.Close(code: code, reason: reason)))
            if sentClose {
                context.close(promise: nil)
            } else {
                // Echo the status code, then close.
                var echo = context.channel.allocator.buffer(capacity: 2)
                if let code { echo.writeInteger(code) }
                sentClose = true
                let reply = WebSocketFrame(fin: true, opcode: .connectionClose, maskKey: .random(), data: echo)
                let channel = context.channel
                context.writeAndFlush(wrapOutboundOut(reply)).whenComplete { _ in channel.close(promise: nil) }
            }
        default:
            break
        }
    }

    private func append(_ frame: WebSocketFrame, context: ChannelHandlerContext) {
        var data = frame.unmaskedData
        guard text.readableBytes + data.readableBytes <= HubSocket.maxMessageBytes else {
            continuation.finish(throwing: IconError(.malformed, "the server sent a message larger than \(HubSocket.maxMessageBytes) bytes"))
            context.close(promise: nil)
            return
        }
        text.writeBuffer(&data)
        guard frame.fin else { return }
        inText = false
        continuation.yield(.text(String(decoding: text.readableBytesView, as: UTF8.self)))
        text.clear()
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        let frame = unwrapOutboundIn(data)
        if frame.opcode == .connectionClose {
            if sentClose {
                promise?.succeed()
                return
            }
            sentClose = true
            if receivedClose {
                let channel = context.channel
                context.writeAndFlush(data).whenComplete { _ in channel.close(promise: nil) }
                promise?.succeed()
                return
            }
        }
        context.write(data, promise: promise)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        // After the server's close frame, a TLS connection cut without close_notify is the end
        // the close frame already announced, not a failure.
        if receivedClose {
            continuation.finish()
        } else {
            continuation.finish(throwing: translate(error))
        }
        context.close(promise: nil)
    }

    func channelInactive(context: ChannelHandlerContext) {
        continuation.finish()
        context.fireChannelInactive()
    }
}
