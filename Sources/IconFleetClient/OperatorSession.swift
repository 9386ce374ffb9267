import Foundation
import IconCore
public import IconProtocol
public import IconTLS
public import Logging

/// An operator's connection to the hub's `/ws/master`: sends messages and hands every message
/// the server sends to a handler until the handler says it has seen enough.
///
/// Used by `icon operator reboot` and `icon operator watch`, and usable by scripts that drive a
/// fleet the way the dashboard does.
public struct OperatorSession: Sendable {
    /// What the handler wants after a message.
    public enum Next: Sendable, Equatable {
        /// Keep reading.
        case `continue`
        /// Send these messages, then keep reading.
        case send([HubMessage])
        /// Close the connection; `run` returns.
        case stop
    }

    /// Where the session connects: `wss://host:port/ws/master` and the certificate name.
    public let endpoint: HubEndpoint
    let files: ClientTLSFiles
    let logger: Logger

    /// The full WebSocket URL (`wss://host:port/ws/master`).
    public var url: String { endpoint.url }

    /// - Parameters:
    ///   - server: `wss://host:port`; `/ws/master` is added when the URL has no path.
    ///   - serverName: the DNS name in the server certificate when it is not the URL's host;
    ///     without it, a URL naming an IP address needs a certificate carrying that address.
    ///   - tls: the operator's CA, certificate and key files, checked here (before any
    ///     connection).
    /// - Throws: `.invalidArgument` naming `--server` for a URL that is not `wss://host[:port]`;
    ///   the TLS files' errors (`.notFound`, `.badKey`, a key that does not match).
    public init(server: String, serverName: String?, tls: ClientTLSFiles, logger: Logger) throws {
        endpoint = try HubEndpoint.resolve(server: server, serverName: serverName, path: FleetPaths.operatorSocket)
        try tls.validate()
        files = tls
        self.logger = logger
    }

    /// Connects, sends `initial`, then calls `handler` for each message until it returns
    /// `.stop`, the server closes the connection, or `timeout` passes.
    ///
    /// - Returns: true when the handler stopped the session, false on timeout or when the
    ///   server closed first in an orderly way.
    /// - Throws: `.refused` with the server's reason when it refuses the upgrade or closes the
    ///   socket for a policy violation; `.network` / `.tls` naming the URL (see
    ///   ``NetworkFailure``) when the connection cannot be made or breaks.
    public func run(
        sending initial: [HubMessage] = [], timeout: Duration,
        handler: @escaping @Sendable (HubMessage) -> Next
    ) async throws -> Bool {
        let (endpoint, files, logger) = (endpoint, files, logger)
        return try await withThrowingTaskGroup(of: Bool.self) { group in
            group.addTask {
                let socket = try await HubSocket.connect(to: endpoint, subprotocol: HubSubprotocol.master, files: files)
                for message in initial { try await socket.send(message.jsonText()) }
                for try await event in socket.events {
                    switch event {
                    case .closed(let close) where close.isOrderly:
                        return false
                    case .closed(let close):
                        throw IconError(
                            close.code == 1008 ? .refused : .network, "\(endpoint.url) closed the connection: \(close.summary)")
                    case .text(let text):
                        guard let message = try? HubMessage.decode(text) else {
                            logger.debug("ignoring a frame from \(endpoint.url) that is not a hub message")
                            continue
                        }
                        switch handler(message) {
                        case .continue:
                            continue
                        case .send(let messages):
                            for message in messages { try await socket.send(message.jsonText()) }
                        case .stop:
                            await socket.close()
                            return true
                        }
                    }
                }
                return false
            }
            group.addTask {
                try await Task.sleep(for: timeout)
                return false
            }
            let result = try await group.next() ?? false
            group.cancelAll()
            return result
        }
    }
}
