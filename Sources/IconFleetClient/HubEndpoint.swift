import Foundation
import IconCore
import NIOCore

/// Where a hub WebSocket goes: the `--server wss://host:port` flag resolved into the URL to
/// connect to and the name to check in the server certificate, for agents (`/ws/slave`) and
/// operators (`/ws/master`).
public struct HubEndpoint: Sendable, Equatable {
    /// The full WebSocket URL, e.g. `wss://images.example.net:8443/ws/slave`.
    public var url: String
    /// The host to connect to, a DNS name or an IP address (without brackets).
    public var host: String
    public var port: Int
    /// The request target: path and query.
    public var target: String
    /// The name sent as SNI and checked in the server certificate. Nil when `host` is an IP
    /// address and no `--server-name` was given: then the certificate must carry that IP
    /// address (TLS has no SNI for addresses).
    public var serverName: String?

    /// - Parameters:
    ///   - server: `wss://host[:port]`, with or without a path; `path` is added when it has none.
    ///   - serverName: the DNS name expected in the server certificate, when it is not the
    ///     URL's host (`--server-name`).
    ///   - path: the hub path, `/ws/slave` or `/ws/master`.
    /// - Throws: `.invalidArgument` naming `--server` when it is not a `wss://` URL with a host,
    ///   or `--server-name` when it is empty or an IP address.
    public static func resolve(server: String, serverName: String?, path: String) throws -> HubEndpoint {
        guard let components = URLComponents(string: server), components.scheme?.lowercased() == "wss",
            let rawHost = components.host, !rawHost.isEmpty
        else {
            throw IconError(.invalidArgument, "--server \(server) is not a wss://host[:port] URL")
        }
        let host = rawHost.hasPrefix("[") && rawHost.hasSuffix("]") ? String(rawHost.dropFirst().dropLast()) : rawHost
        var url = server
        var target = components.percentEncodedPath
        if target.isEmpty || target == "/" {
            while url.hasSuffix("/") { url.removeLast() }
            url += path
            target = path
        }
        if let query = components.percentEncodedQuery { target += "?\(query)" }
        if let serverName, serverName.isEmpty || isIPAddress(serverName) {
            throw IconError(
                .invalidArgument,
                "--server-name must be a DNS name the server certificate carries, not \(serverName.isEmpty ? "empty" : serverName); an IP address goes into --server")
        }
        let name = serverName ?? (isIPAddress(host) ? nil : host)
        return HubEndpoint(url: url, host: host, port: components.port ?? 443, target: target, serverName: name)
    }

    /// The `Host` header value: `host:port`, an IPv6 address in brackets.
    public var hostHeader: String {
        host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)"
    }

    static func isIPAddress(_ host: String) -> Bool {
        (try? SocketAddress(ipAddress: host, port: 0)) != nil
    }
}
