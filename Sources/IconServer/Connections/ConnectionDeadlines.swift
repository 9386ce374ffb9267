import Logging
import NIOCore
import NIOHTTP1
import NIOSSL
import NIOTLS

/// Sits right after the TLS handler of every connection, on its decrypted bytes, and closes the
/// connection when the deadline of its phase passes (``ConnectionPhases``): the handshake, the
/// request head, the wait between requests, a response the client does not read, a silent
/// WebSocket peer.
///
/// It also answers what the HTTP layer cannot: a request line that is too long (414, before
/// the decoder buffers it), a head that did not arrive in time (408) and, for
/// ``HTTPExchangeTracker``, a head the decoder refused (400, 431). An answer is written in
/// plain HTTP/1.1 below the encoder; then the output is closed and input is read and dropped
/// for a moment (a "lingering close"), so the client reads the answer instead of a reset.
final class ConnectionDeadlines: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    /// How long input is drained after an answer before the connection is closed.
    static let lingerTime = TimeAmount.seconds(2)

    private var phases: ConnectionPhases
    private let limits: ConnectionLimits
    private let ticket: ConnectionCounter.Ticket?
    private let logger: Logger
    private var context: ChannelHandlerContext?
    private var timer: Scheduled<Void>?
    private var timerDeadline: NIODeadline?
    /// Set once an answer is written: reads are dropped until the connection closes.
    private var lingering = false

    init(limits: ConnectionLimits, ticket: ConnectionCounter.Ticket?, logger: Logger) {
        self.limits = limits
        self.ticket = ticket
        self.logger = logger
        phases = ConnectionPhases(limits: limits, now: .now())
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        if context.channel.isActive {
            phases.activated(now: .now())
            rearm(context)
        }
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        cancelTimer()
        self.context = nil
    }

    func channelActive(context: ChannelHandlerContext) {
        phases.activated(now: .now())
        rearm(context)
        context.fireChannelActive()
    }

    func channelInactive(context: ChannelHandlerContext) {
        cancelTimer()
        context.fireChannelInactive()
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        switch event {
        case TLSUserEvent.handshakeCompleted:
            ticket?.authenticate()
            phases.handshakeCompleted(now: .now())
            rearm(context)
        case ChannelEvent.inputClosed where lingering:
            context.close(promise: nil)
        default:
            break
        }
        context.fireUserInboundEventTriggered(event)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !lingering else { return }
        switch phases.read(unwrapInboundIn(data).readableBytesView, now: .now()) {
        case .forward:
            rearm(context)
            context.fireChannelRead(data)
        case .requestLineTooLong:
            answer(
                .uriTooLong, "the request line is longer than \(limits.maxRequestLineBytes) bytes",
                reason: "request line over \(limits.maxRequestLineBytes) bytes", context: context)
        }
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        guard !lingering else {
            // Keep draining: the layers above may have stopped asking for reads.
            context.read()
            return
        }
        context.fireChannelReadComplete()
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        phases.writabilityChanged(isWritable: context.channel.isWritable, now: .now())
        rearm(context)
        context.fireChannelWritabilityChanged()
    }

    // MARK: What the HTTP layer reports (``HTTPExchangeTracker``).

    func headReceived() {
        phases.headReceived(now: .now())
        if let context { rearm(context) }
    }

    func requestEnded() {
        phases.requestEnded(now: .now())
        if let context { rearm(context) }
    }

    func responseEnded() {
        phases.responseEnded(now: .now())
        if let context { rearm(context) }
    }

    func upgraded() {
        phases.upgraded(now: .now())
        if let context { rearm(context) }
    }

    /// The HTTP decoder refused the request: answer it when no response is under way, else close.
    func refuse(_ error: HTTPParserError) {
        guard let context else { return }
        guard !phases.isResponding else {
            context.close(promise: nil)
            return
        }
        if error == .headerOverflow {
            answer(
                .requestHeaderFieldsTooLarge,
                "the request header is larger than \(limits.maxHeaderBytes) bytes or has more than \(limits.maxHeaderCount) fields",
                reason: "request header too large", context: context)
        } else {
            answer(.badRequest, "malformed HTTP request", reason: "malformed request (\(error))", context: context)
        }
    }

    // MARK: Deadlines and answers.

    /// Schedules the timer for the current deadline when it comes before the one already set
    /// (a later deadline is found when that timer fires).
    private func rearm(_ context: ChannelHandlerContext) {
        guard let (at, _) = phases.deadline else { return }
        if let timerDeadline, timerDeadline <= at { return }
        cancelTimer()
        timerDeadline = at
        timer = context.eventLoop.assumeIsolated().scheduleTask(deadline: at) { [weak self] in
            self?.timerFired()
        }
    }

    private func cancelTimer() {
        timer?.cancel()
        timer = nil
        timerDeadline = nil
    }

    private func timerFired() {
        timer = nil
        timerDeadline = nil
        guard let context, !lingering, let (at, expiry) = phases.deadline else { return }
        guard at <= .now() else {
            rearm(context)
            return
        }
        logger.debug(
            "connections: closed \(context.channel.remoteAddress?.description ?? "-"): \(expiry.rawValue) in time")
        switch expiry {
        case .requestHeader:
            answer(
                .requestTimeout,
                "the request header did not arrive within \(limits.requestHeaderTimeout.components.seconds) s",
                reason: nil, context: context)
        case .tlsHandshake, .idle, .stalledReader, .deadPeer:
            context.close(promise: nil)
        }
    }

    /// Writes a one-line text answer with `Connection: close`, closes the output and drops the
    /// input for ``lingerTime``, then closes.
    private func answer(_ status: HTTPResponseStatus, _ line: String, reason: String?, context: ChannelHandlerContext) {
        guard !lingering else { return }
        lingering = true
        cancelTimer()
        if let reason {
            logger.info(
                "http: answered \(status.code) to \(context.channel.remoteAddress?.ipAddress ?? "-"): \(reason)")
        }
        let body = line + "\n"
        var buffer = context.channel.allocator.buffer(capacity: 256 + body.utf8.count)
        buffer.writeString(
            "HTTP/1.1 \(status.code) \(status.reasonPhrase)\r\n"
                + "Content-Type: text/plain; charset=utf-8\r\nContent-Length: \(body.utf8.count)\r\n"
                + "Cache-Control: no-store\r\nX-Content-Type-Options: nosniff\r\nConnection: close\r\n\r\n" + body)
        context.writeAndFlush(wrapOutboundOut(buffer), promise: nil)
        context.close(mode: .output, promise: nil)
        let channel = context.channel
        context.eventLoop.assumeIsolated().scheduleTask(in: Self.lingerTime) {
            channel.close(promise: nil)
        }
    }
}
