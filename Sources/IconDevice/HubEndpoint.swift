import Foundation
import IconCore

/// Turns a `--server wss://host:port` flag into the hub URL to connect to and the TLS name to
/// verify, for agents (`/ws/slave`) and operators (`/ws/master`).
public enum HubEndpoint {
    /// - Parameters:
    ///   - server: `wss://host[:port]`, with or without a path; `path` is added when it has none.
    ///   - serverName: the DNS name expected in the server certificate; required when `server`
    ///     names an IP address, since certificates are checked by name.
    /// - Throws: `.invalidArgument` naming `--server` when it is not a `wss://` URL with a
    ///   host, or names an IP address without `serverName`.
    public static func resolve(server: String, serverName: String?, path: String) throws -> (url: String, tlsName: String) {
        guard let components = URLComponents(string: server), components.scheme == "wss",
            let host = components.host, !host.isEmpty
        else {
            throw IconError(.invalidArgument, "--server \(server) is not a wss://host[:port] URL")
        }
        var url = server
        if components.path.isEmpty || components.path == "/" {
            while url.hasSuffix("/") { url.removeLast() }
            url += path
        }
        if let serverName { return (url, serverName) }
        let isIP = host.contains(":") || host.split(separator: ".").allSatisfy { UInt8($0) != nil }
        if isIP {
            throw IconError(
                .invalidArgument,
                "--server \(server) names an IP address: give --server-name with the DNS name in the server certificate")
        }
        return (url, host)
    }
}
