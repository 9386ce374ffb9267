import Logging
import NIOCore
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// Counts the server's open connections, in total and, until their TLS handshake completes,
/// per source address; refuses the ones over ``ConnectionLimits``' caps.
///
/// Shared by every event loop. A refusal is logged at most once every ten seconds, with the
/// number refused since the last line, so a flood cannot flood the log too.
final class ConnectionCounter: Sendable {
    private struct State {
        var total = 0
        var unauthenticated: [String: Int] = [:]
        var refusedSinceLog = 0
        var lastLog: NIODeadline?
    }

    let maxConnections: Int
    let maxUnauthenticatedPerAddress: Int
    let logger: Logger
    private let state = Mutex(State())

    init(limits: ConnectionLimits, logger: Logger) {
        maxConnections = limits.maxConnections
        maxUnauthenticatedPerAddress = limits.maxUnauthenticatedPerAddress
        self.logger = logger
    }

    /// Open connections now.
    var open: Int { state.withLock { $0.total } }

    /// Counts a new connection from `address`, or returns `nil` when a cap is reached (the
    /// caller closes the connection).
    func admit(_ address: SocketAddress?, now: NIODeadline = .now()) -> Ticket? {
        let source = Self.sourceKey(address)
        let refusal: String? = state.withLock { state in
            if state.total >= maxConnections {
                return "\(maxConnections) connections are open (--max-connections)"
            }
            if let source, state.unauthenticated[source, default: 0] >= maxUnauthenticatedPerAddress {
                return "\(source) has \(maxUnauthenticatedPerAddress) connections without a completed TLS handshake (--max-unauthenticated-per-address)"
            }
            state.total += 1
            if let source { state.unauthenticated[source, default: 0] += 1 }
            return nil
        }
        guard let refusal else { return Ticket(counter: self, source: source) }
        let line: String? = state.withLock { state in
            state.refusedSinceLog += 1
            if let last = state.lastLog, now - last < .seconds(10) { return nil }
            defer { (state.refusedSinceLog, state.lastLog) = (0, now) }
            let others = state.refusedSinceLog > 1 ? " (\(state.refusedSinceLog) refused in the last 10 s)" : ""
            return "connections: refused a connection from \(address?.ipAddress ?? "-"): \(refusal)\(others)"
        }
        if let line { logger.warning("\(line)") }
        return nil
    }

    /// How connections are grouped for the per-address cap: the IPv4 address (also when mapped
    /// into IPv6), the /64 prefix of an IPv6 address; `nil` for other kinds (a UNIX socket).
    static func sourceKey(_ address: SocketAddress?) -> String? {
        guard case .v6(let v6) = address else { return address?.ipAddress }
        let bytes = withUnsafeBytes(of: v6.address.sin6_addr) { Array($0) }
        if bytes[0..<10].allSatisfy({ $0 == 0 }), bytes[10] == 0xff, bytes[11] == 0xff {
            return bytes[12...].map(String.init).joined(separator: ".")
        }
        let groups = stride(from: 0, to: 8, by: 2).map { String(UInt16(bytes[$0]) << 8 | UInt16(bytes[$0 + 1]), radix: 16) }
        return groups.joined(separator: ":") + "::/64"
    }

    fileprivate func authenticated(_ source: String?) {
        guard let source else { return }
        state.withLock { Self.leave(source, &$0) }
    }

    fileprivate func closed(_ source: String?, authenticated: Bool) {
        state.withLock { state in
            state.total -= 1
            if let source, !authenticated { Self.leave(source, &state) }
        }
    }

    private static func leave(_ source: String, _ state: inout State) {
        let left = state.unauthenticated[source, default: 1] - 1
        state.unauthenticated[source] = left > 0 ? left : nil
    }

    /// One admitted connection's place in the counts; each step happens at most once.
    final class Ticket: Sendable {
        private struct Steps {
            var authenticated = false
            var released = false
        }
        private let counter: ConnectionCounter
        private let source: String?
        private let steps = Mutex(Steps())

        fileprivate init(counter: ConnectionCounter, source: String?) {
            self.counter = counter
            self.source = source
        }

        /// The TLS handshake completed: the connection leaves its address's count.
        func authenticate() {
            let first = steps.withLock { steps in
                defer { steps.authenticated = true }
                return !steps.authenticated && !steps.released
            }
            if first { counter.authenticated(source) }
        }

        /// The connection closed.
        func release() {
            let wasAuthenticated: Bool? = steps.withLock { steps in
                guard !steps.released else { return nil }
                steps.released = true
                return steps.authenticated
            }
            if let wasAuthenticated { counter.closed(source, authenticated: wasAuthenticated) }
        }
    }
}
