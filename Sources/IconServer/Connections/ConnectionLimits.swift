import IconCore

/// What one peer, or all of them together, may hold of the server: a time limit on each phase
/// of a connection, connection caps, the size of a request head, and WebSocket pings.
///
/// A connection goes through phases, each with its own deadline (``ConnectionDeadlines``):
/// the TLS handshake (``tlsHandshakeTimeout`` from accept), the request head
/// (``requestHeaderTimeout``: from the end of the handshake for the first request, from its
/// first byte for a later one, so a client sending a byte a second is cut), the wait between
/// requests (``idleTimeout``), and for an upgraded WebSocket the server's pings (a peer that
/// sends nothing, not even a pong, for two ``webSocketPingInterval``s is closed). While a
/// response is sent there is no deadline, except when the client reads nothing of it for
/// ``idleTimeout``.
public struct ConnectionLimits: Sendable, Equatable {
    /// Time from accept to a completed TLS handshake.
    public var tlsHandshakeTimeout: Duration
    /// Time for a whole request head (request line and header fields) to arrive.
    public var requestHeaderTimeout: Duration
    /// Time a connection may wait for its next request; also how long a response may wait for a
    /// client that reads none of it.
    public var idleTimeout: Duration
    /// Interval of the server's WebSocket pings; a peer silent for two intervals is closed.
    public var webSocketPingInterval: Duration
    /// Open connections of every kind; one more is closed right after accept.
    public var maxConnections: Int
    /// Connections from one source address (IPv6: one /64) that have not completed the TLS
    /// handshake with a trusted certificate; one more is closed right after accept. Connections
    /// that have completed it count only towards ``maxConnections``, so machines behind one NAT
    /// address are not limited by it.
    public var maxUnauthenticatedPerAddress: Int
    /// Longest request line (method, target, version) in bytes; a longer one is answered 414.
    public var maxRequestLineBytes: Int
    /// Largest request head (request line and header fields) in bytes; a larger one is answered 431.
    public var maxHeaderBytes: Int
    /// Most header fields in a request; more are answered 431.
    public var maxHeaderCount: Int

    public init(
        tlsHandshakeTimeout: Duration = .seconds(10),
        requestHeaderTimeout: Duration = .seconds(10),
        idleTimeout: Duration = .seconds(60),
        webSocketPingInterval: Duration = .seconds(30),
        maxConnections: Int = 16_384,
        maxUnauthenticatedPerAddress: Int = 256,
        maxRequestLineBytes: Int = 8 * 1024,
        maxHeaderBytes: Int = 32 * 1024,
        maxHeaderCount: Int = 100
    ) {
        self.tlsHandshakeTimeout = tlsHandshakeTimeout
        self.requestHeaderTimeout = requestHeaderTimeout
        self.idleTimeout = idleTimeout
        self.webSocketPingInterval = webSocketPingInterval
        self.maxConnections = maxConnections
        self.maxUnauthenticatedPerAddress = maxUnauthenticatedPerAddress
        self.maxRequestLineBytes = maxRequestLineBytes
        self.maxHeaderBytes = maxHeaderBytes
        self.maxHeaderCount = maxHeaderCount
    }

    /// How long an upgraded WebSocket may stay silent before it is closed as dead.
    public var deadPeerTimeout: Duration { webSocketPingInterval * 2 }

    /// Checks that every limit is positive.
    ///
    /// - Throws: `IconError(.invalidArgument)` naming the flag of the first limit that is not.
    public func validate() throws {
        let durations: [(String, Duration)] = [
            ("--tls-handshake-timeout", tlsHandshakeTimeout), ("--request-header-timeout", requestHeaderTimeout),
            ("--idle-timeout", idleTimeout), ("--websocket-ping-interval", webSocketPingInterval),
        ]
        for (flag, value) in durations where value <= .zero {
            throw IconError(.invalidArgument, "\(flag) must be a positive number of seconds")
        }
        let counts: [(String, Int)] = [
            ("--max-connections", maxConnections), ("--max-unauthenticated-per-address", maxUnauthenticatedPerAddress),
            ("request line limit", maxRequestLineBytes), ("request header limit", maxHeaderBytes),
            ("header field count limit", maxHeaderCount),
        ]
        for (flag, value) in counts where value < 1 {
            throw IconError(.invalidArgument, "\(flag) must be at least 1, got \(value)")
        }
    }
}
