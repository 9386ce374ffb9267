import NIOCore

/// The phase of one connection and the deadline it sets, as a plain state machine.
///
/// ``ConnectionDeadlines`` feeds it what it sees (the handshake completing, bytes read, a
/// request head or a response end passing, writability) and closes the connection when
/// ``deadline`` passes. Times are `NIODeadline`s, given by the caller, so tests drive it
/// without a clock.
struct ConnectionPhases {
    /// Why a connection was closed by its deadline.
    enum Expiry: String, Equatable, Sendable {
        case tlsHandshake = "no completed TLS handshake"
        case requestHeader = "no complete request header"
        case idle = "idle"
        case stalledReader = "the client read nothing of the response"
        case deadPeer = "no WebSocket frame, not even a pong"
    }

    enum Phase: Equatable {
        case handshake
        case http
        case webSocket
    }

    /// What to do with bytes just read.
    enum ReadVerdict: Equatable {
        case forward
        /// The request line is longer than the limit: answer 414 and close.
        case requestLineTooLong
    }

    let handshakeTimeout: TimeAmount
    let headerTimeout: TimeAmount
    let idleTimeout: TimeAmount
    let deadPeerTimeout: TimeAmount
    let maxRequestLineBytes: Int

    private(set) var phase = Phase.handshake
    /// When the connection became active (the handshake's clock).
    private var activeSince: NIODeadline
    /// Request heads passed, request ends passed, response ends written.
    private var requestsStarted = 0
    private var requestsEnded = 0
    private var responsesEnded = 0
    /// Since when the head of the next request is awaited (bytes of it seen, or the handshake
    /// done for the first), `nil` while none is.
    private var headPendingSince: NIODeadline?
    /// Bytes of the request line seen so far while it has no line feed yet; `nil` when not counting.
    private var requestLineBytes: Int?
    private var idleSince: NIODeadline
    private var lastRead: NIODeadline
    private var unwritableSince: NIODeadline?
    /// When the response ended while the request's body was still arriving.
    private var drainingSince: NIODeadline?

    init(limits: ConnectionLimits, now: NIODeadline) {
        handshakeTimeout = TimeAmount(limits.tlsHandshakeTimeout)
        headerTimeout = TimeAmount(limits.requestHeaderTimeout)
        idleTimeout = TimeAmount(limits.idleTimeout)
        deadPeerTimeout = TimeAmount(limits.deadPeerTimeout)
        maxRequestLineBytes = limits.maxRequestLineBytes
        activeSince = now
        idleSince = now
        lastRead = now
    }

    /// A response is on its way (its head may not be written yet).
    var isResponding: Bool { requestsStarted > responsesEnded }

    /// The socket became active: the handshake's clock starts.
    mutating func activated(now: NIODeadline) {
        activeSince = now
    }

    /// The TLS handshake completed: the first request's head is due within the header timeout.
    mutating func handshakeCompleted(now: NIODeadline) {
        guard phase == .handshake else { return }
        phase = .http
        headPendingSince = now
        requestLineBytes = 0
    }

    /// Decrypted bytes arrived.
    mutating func read(_ bytes: ByteBufferView, now: NIODeadline) -> ReadVerdict {
        lastRead = now
        guard phase == .http else { return .forward }
        if headPendingSince == nil, requestsStarted == requestsEnded, !isResponding {
            // The first byte of the next request on a kept-alive connection.
            headPendingSince = now
            requestLineBytes = 0
        }
        guard let counted = requestLineBytes else { return .forward }
        if let lineFeed = bytes.firstIndex(of: UInt8(ascii: "\n")) {
            requestLineBytes = nil
            return counted + bytes.distance(from: bytes.startIndex, to: lineFeed) > maxRequestLineBytes
                ? .requestLineTooLong : .forward
        }
        requestLineBytes = counted + bytes.count
        return counted + bytes.count > maxRequestLineBytes ? .requestLineTooLong : .forward
    }

    /// A complete request head went to the router.
    mutating func headReceived(now: NIODeadline) {
        requestsStarted += 1
        headPendingSince = nil
        requestLineBytes = nil
    }

    /// The last part of a request (its body) arrived.
    mutating func requestEnded(now: NIODeadline) {
        requestsEnded += 1
        if requestsEnded == requestsStarted { drainingSince = nil }
        if !isResponding { idleSince = now }
    }

    /// The last part of a response was written.
    mutating func responseEnded(now: NIODeadline) {
        responsesEnded += 1
        guard !isResponding else { return }
        idleSince = now
        if requestsEnded < requestsStarted { drainingSince = now }
        // A head pipelined behind this response gets its full time from now.
        if let since = headPendingSince { headPendingSince = max(since, now) }
    }

    /// The connection became a WebSocket: from now on only the dead-peer timeout applies.
    mutating func upgraded(now: NIODeadline) {
        phase = .webSocket
        lastRead = now
        headPendingSince = nil
        requestLineBytes = nil
    }

    /// The channel's writability changed (it turns false while the client does not read).
    mutating func writabilityChanged(isWritable: Bool, now: NIODeadline) {
        unwritableSince = isWritable ? nil : (unwritableSince ?? now)
    }

    /// When the connection must be closed, and why; `nil` while no deadline runs.
    var deadline: (at: NIODeadline, expiry: Expiry)? {
        switch phase {
        case .handshake:
            return (activeSince + handshakeTimeout, .tlsHandshake)
        case .webSocket:
            return (lastRead + deadPeerTimeout, .deadPeer)
        case .http:
            if isResponding {
                return unwritableSince.map { ($0 + idleTimeout, .stalledReader) }
            }
            if let since = headPendingSince { return (since + headerTimeout, .requestHeader) }
            if let since = drainingSince { return (since + idleTimeout, .idle) }
            return (idleSince + idleTimeout, .idle)
        }
    }
}

