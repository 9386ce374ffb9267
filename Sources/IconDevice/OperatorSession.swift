import Foundation
import HTTPTypes
import HummingbirdWSClient
import IconCore
import IconProtocol
import Logging
import NIOSSL
import Synchronization

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

    /// The full WebSocket URL (`wss://host:port/ws/master`).
    public let url: String
    /// The name checked in the server certificate and sent as SNI.
    public let tlsName: String
    let tls: TLSConfiguration
    let logger: Logger

    /// - Parameters:
    ///   - server: `wss://host:port`; `/ws/master` is added when the URL has no path.
    ///   - serverName: the DNS name in the server certificate when `server` names an IP address.
    ///   - tls: the operator's CA, certificate and key files.
    /// - Throws: `.invalidArgument` naming `--server` for a URL that is not `wss://host[:port]`,
    ///   or names an IP address without `serverName`; the TLS files' errors.
    public init(server: String, serverName: String?, tls: ClientTLSFiles, logger: Logger) throws {
        (url, tlsName) = try HubEndpoint.resolve(server: server, serverName: serverName, path: "/ws/master")
        self.tls = try tls.configuration()
        self.logger = logger
    }

    /// Connects, sends `initial`, then calls `handler` for each message until it returns
    /// `.stop`, the server closes the connection, or `timeout` passes.
    ///
    /// - Returns: true when the handler stopped the session, false on timeout or when the
    ///   server closed first.
    /// - Throws: `.network` naming the URL when the connection cannot be made.
    public func run(
        sending initial: [HubMessage] = [], timeout: Duration,
        handler: @escaping @Sendable (HubMessage) -> Next
    ) async throws -> Bool {
        let configuration = WebSocketClientConfiguration(
            maxFrameSize: 1 << 20, additionalHeaders: [.secWebSocketProtocol: HubSubprotocol.master], sniHostname: tlsName)
        let url = url
        let logger = logger
        return try await withThrowingTaskGroup(of: Bool.self) { group in
            group.addTask {
                let stopped = SessionFlag()
                do {
                    try await WebSocketClient.connect(
                        url: url, configuration: configuration, tlsConfiguration: tls, logger: logger
                    ) { inbound, outbound, _ in
                        for message in initial { try await outbound.writeTextMessage(message.jsonText()) }
                        for try await frame in inbound.messages(maxSize: 1 << 20) {
                            guard case .text(let text) = frame else { continue }
                            guard let message = try? HubMessage.decode(text) else {
                                logger.debug("ignoring a frame from \(url) that is not a hub message")
                                continue
                            }
                            switch handler(message) {
                            case .continue:
                                continue
                            case .send(let messages):
                                for message in messages { try await outbound.writeTextMessage(message.jsonText()) }
                            case .stop:
                                stopped.set()
                                try await outbound.close(.normalClosure, reason: nil)
                                return
                            }
                        }
                    }
                } catch let error as IconError {
                    throw error
                } catch {
                    if stopped.isSet { return true }
                    throw IconError(.network, "cannot talk to the hub at \(url)", cause: error)
                }
                return stopped.isSet
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

/// A flag set from the message handler and read after the connection ends.
final class SessionFlag: Sendable {
    private let value = Mutex(false)
    func set() { value.withLock { $0 = true } }
    var isSet: Bool { value.withLock { $0 } }
}
