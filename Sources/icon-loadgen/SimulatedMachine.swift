import NIOCore
import NIOHTTP1
import NIOWebSocket

/// One simulated machine's WebSocket after the upgrade: reports every `interval` and tells the
/// `LoadStatistics` when a `new_manifest` arrives. Plain NIO handlers (no task per socket) so
/// ten thousand of them cost little in the generator.
final class SimulatedMachine: ChannelInboundHandler {
    typealias InboundIn = WebSocketFrame
    typealias OutboundOut = WebSocketFrame

    let hostname: String
    let imageType: String
    let interval: TimeAmount
    let statistics: LoadStatistics
    private var reportTask: RepeatedTask?
    private var text = ""

    init(hostname: String, imageType: String, interval: TimeAmount, statistics: LoadStatistics) {
        self.hostname = hostname
        self.imageType = imageType
        self.interval = interval
        self.statistics = statistics
    }

    func handlerAdded(context: ChannelHandlerContext) {
        statistics.connected()
        // Spread the reports over the interval so the server sees a steady rate, not bursts.
        let offset = TimeAmount.milliseconds(Int64.random(in: 0..<max(1, interval.nanoseconds / 1_000_000)))
        let channel = context.channel
        let report = reportFrame(allocator: channel.allocator)
        reportTask = channel.eventLoop.scheduleRepeatedTask(initialDelay: offset, delay: interval) { _ in
            channel.writeAndFlush(WebSocketFrame(fin: true, opcode: .text, maskKey: .random(), data: report), promise: nil)
        }
    }

    func reportFrame(allocator: ByteBufferAllocator) -> ByteBuffer {
        let json = #"{"type":"report","data":{"hostname":"\#(hostname)","image_type":"\#(imageType)","#
            + #""uptime_seconds":1000,"timestamp":1700000000,"volume_id":"BENCH","#
            + #""next_timestamp":1700000000,"next_volume_id":"BENCH","status":"ok"}}"#
        return allocator.buffer(string: json)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let frame = unwrapInboundIn(data)
        switch frame.opcode {
        case .text, .continuation:
            text += String(buffer: frame.unmaskedData)
            if frame.fin {
                if text.contains(#""new_manifest""#) { statistics.receivedManifest() }
                text = ""
            }
        case .ping:
            let pong = WebSocketFrame(fin: true, opcode: .pong, maskKey: .random(), data: frame.unmaskedData)
            context.writeAndFlush(wrapOutboundOut(pong), promise: nil)
        case .connectionClose:
            context.close(promise: nil)
        default:
            break
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        reportTask?.cancel()
        statistics.disconnected()
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        statistics.failed("\(error)")
        context.close(promise: nil)
    }
}

/// Sends the upgrade request for `/ws/slave` once the TLS connection is up.
final class UpgradeRequestHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPClientResponsePart
    typealias OutboundOut = HTTPClientRequestPart

    let host: String
    let path: String
    let subprotocol: String
    let statistics: LoadStatistics
    private var error: (any Error)?

    init(host: String, path: String, subprotocol: String, statistics: LoadStatistics) {
        self.host = host
        self.path = path
        self.subprotocol = subprotocol
        self.statistics = statistics
    }

    func channelInactive(context: ChannelHandlerContext) {
        // A successful upgrade removes this handler, so only a connection that never became a
        // WebSocket (TLS refused, server overloaded or timed out) ends here.
        statistics.failed("closed before the WebSocket upgrade" + (error.map { ": \($0)" } ?? ""))
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        self.error = self.error ?? error
        context.close(promise: nil)
    }

    func channelActive(context: ChannelHandlerContext) {
        var headers = HTTPHeaders()
        headers.add(name: "Host", value: host)
        headers.add(name: "Sec-WebSocket-Protocol", value: subprotocol)
        headers.add(name: "Content-Length", value: "0")
        let head = HTTPRequestHead(version: .http1_1, method: .GET, uri: path, headers: headers)
        context.write(wrapOutboundOut(.head(head)), promise: nil)
        context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
        context.fireChannelActive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        // Only a refused upgrade gets here (a successful one removes this handler first).
        if case .head(let head) = unwrapInboundIn(data) {
            errorCaught(context: context, error: LoadGenError("upgrade refused: HTTP \(head.status.code)"))
        }
    }
}

struct LoadGenError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
