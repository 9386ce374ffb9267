import NIOCore
import NIOHTTP1

/// Sits between the HTTP/1 decoder and the WebSocket upgrader of every connection.
///
/// Hummingbird answers an upgrade its WebSocket router declines with a bare 400, and the request
/// never reaches the HTTP router. For the hub's paths the gate asks `refuses` first; a refused
/// upgrade loses its `Upgrade` header (and asks for `Connection: close`), so the upgrader passes
/// it on as a plain request and the HTTP route of that path answers it with a status and a
/// one-line reason (``HubEndpoints``).
/// Only the first request of a connection may upgrade, so only that one is looked at.
final class HubUpgradeGate: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias InboundOut = HTTPServerRequestPart

    /// Whether an upgrade of `path` with these request headers (subprotocols, `Origin`, `Host`)
    /// on `channel` must be refused.
    typealias Refuses = @Sendable (_ path: String, _ headers: HTTPHeaders, _ channel: any Channel) async -> Bool

    enum State {
        /// Waiting for the first request head.
        case first
        /// Asking `refuses`; parts and a read-complete that arrive meanwhile wait.
        case deciding(buffered: [HTTPServerRequestPart], readComplete: Bool)
        /// Everything passes (until the gate has left the pipeline).
        case open
    }

    let paths: Set<String>
    let refuses: Refuses
    private var state = State.first
    private var removed = false

    init(paths: Set<String>, refuses: @escaping Refuses) {
        self.paths = paths
        self.refuses = refuses
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch state {
        case .open:
            context.fireChannelRead(data)
        case .deciding(var buffered, let readComplete):
            buffered.append(unwrapInboundIn(data))
            state = .deciding(buffered: buffered, readComplete: readComplete)
        case .first:
            guard case .head(let head) = unwrapInboundIn(data), let path = upgradePath(head) else {
                state = .open
                context.fireChannelRead(data)
                leave(context)
                return
            }
            state = .deciding(buffered: [], readComplete: false)
            let headers = head.headers
            let channel = context.channel
            let refuses = self.refuses
            let promise = context.eventLoop.makePromise(of: Bool.self)
            promise.completeWithTask { await refuses(path, headers, channel) }
            promise.futureResult.assumeIsolated().whenSuccess { refuse in
                self.release(head, refuse: refuse, context: context)
            }
        }
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        if case .deciding(let buffered, _) = state {
            state = .deciding(buffered: buffered, readComplete: true)
            return
        }
        context.fireChannelReadComplete()
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        removed = true
    }

    /// The hub path `head` asks to upgrade, or `nil` for anything else.
    func upgradePath(_ head: HTTPRequestHead) -> String? {
        let path = String(head.uri.prefix { $0 != "?" })
        guard paths.contains(path),
            head.headers["upgrade"].contains(where: { $0.lowercased().contains("websocket") })
        else { return nil }
        return path
    }

    private func release(_ head: HTTPRequestHead, refuse: Bool, context: ChannelHandlerContext) {
        guard !removed, case .deciding(let buffered, let readComplete) = state else { return }
        state = .open
        var head = head
        if refuse {
            head.headers.remove(name: "upgrade")
            // The HTTP decoder already stopped parsing after this request (it saw an upgrade):
            // the connection must end with the answer.
            head.headers.replaceOrAdd(name: "connection", value: "close")
        }
        context.fireChannelRead(wrapInboundOut(.head(head)))
        for part in buffered { context.fireChannelRead(wrapInboundOut(part)) }
        if readComplete { context.fireChannelReadComplete() }
        leave(context)
    }

    /// Leaves the pipeline: later requests cannot upgrade, and WebSocket frames need no gate.
    private func leave(_ context: ChannelHandlerContext) {
        guard !removed else { return }
        context.pipeline.syncOperations.removeHandler(context: context, promise: nil)
    }
}
