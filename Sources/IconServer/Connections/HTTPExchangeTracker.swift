import NIOCore
import NIOHTTP1

/// Sits after the HTTP/1 upgrade handler and tells ``ConnectionDeadlines`` where requests and
/// responses begin and end, so it knows which deadline applies; hands it the decoder's errors
/// to answer (400, 431), which would otherwise reach no one while the connection waits for its
/// first request (the WebSocket upgrade handler ignores errors) and leave the connection open.
///
/// Leaves the pipeline when the connection is upgraded to a WebSocket: frames follow, not HTTP parts.
final class HTTPExchangeTracker: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias InboundOut = HTTPServerRequestPart
    typealias OutboundIn = HTTPServerResponsePart
    typealias OutboundOut = HTTPServerResponsePart

    private let deadlines: ConnectionDeadlines
    private var removed = false

    init(deadlines: ConnectionDeadlines) {
        self.deadlines = deadlines
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head: deadlines.headReceived()
        case .body: break
        case .end: deadlines.requestEnded()
        }
        context.fireChannelRead(data)
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if case HTTPServerUpgradeEvents.upgradeComplete = event {
            // Frames follow, not HTTP parts; they pass only once this event has.
            deadlines.upgraded()
            leave(context)
        }
        context.fireUserInboundEventTriggered(event)
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        switch unwrapOutboundIn(data) {
        case .head, .body:
            context.write(data, promise: promise)
        case .end:
            context.write(data, promise: promise)
            deadlines.responseEnded()
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        guard let error = error as? HTTPParserError else {
            context.fireErrorCaught(error)
            return
        }
        deadlines.refuse(error)
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        removed = true
    }

    private func leave(_ context: ChannelHandlerContext) {
        guard !removed else { return }
        removed = true
        context.pipeline.syncOperations.removeHandler(context: context, promise: nil)
    }
}
