import Foundation
import IconCore

/// Which web origins may drive the operator endpoints (`/ws/master`, `/api`, `/exec`).
///
/// A browser holding an operator certificate presents it to any page that asks, so a page on
/// another site could open `/ws/master` or post to `/exec` with the operator's rights. Browsers
/// say where a request comes from in `Origin`: a request that carries one must come from the
/// server's own origin (`https://` and the request's `Host`) or from `--allowed-origin`. A
/// request without `Origin` (curl) is not a browser's cross-site request and passes, nor is one
/// whose `Origin` has the scheme `ws` or `wss`: WebSocket libraries (`icon operator`, the agent)
/// send the URL they connect to, and a page in a browser always has an `http(s)` origin or `null`.
public struct OriginPolicy: Sendable, Equatable {
    /// The extra origins, normalized (`https://host:port`, lowercase, explicit port).
    public let allowed: Set<String>

    /// The server's own origin only.
    public static let sameOriginOnly = OriginPolicy(normalized: [])

    init(normalized: Set<String>) { allowed = normalized }

    /// - Parameter allowedOrigins: `--allowed-origin` values, e.g. `https://ops.example.net:8443`.
    /// - Throws: `IconError(.invalidArgument)` naming `--allowed-origin` for a value that is not
    ///   `scheme://host[:port]`.
    public init(allowedOrigins: [String] = []) throws {
        allowed = Set(
            try allowedOrigins.map { value in
                guard let origin = Self.normalize(origin: value) else {
                    throw IconError(
                        .invalidArgument,
                        "--allowed-origin '\(value)' is not an origin: give scheme://host[:port] without a path, e.g. https://ops.example.net:8443")
                }
                return origin
            })
    }

    /// Why a request to `path` with these headers is refused, or `nil` when it may go on.
    func refusal(path: String, origin: String?, host: String?) -> String? {
        guard let origin else { return nil }
        if Self.isWebSocketClient(origin: origin) { return nil }
        let shown = CloseReason.clip(CloseReason.printable(origin), to: 100)
        guard let normalized = Self.normalize(origin: origin) else {
            return "\(path) refuses requests from origin \(shown): only this server's own pages and --allowed-origin may use it"
        }
        if allowed.contains(normalized) { return nil }
        if let host, let own = Self.normalize(host: host, scheme: "https"), own == normalized { return nil }
        return "\(path) refuses requests from origin \(shown): only this server's own pages and --allowed-origin may use it"
    }

    /// Throws unless ``refusal(path:origin:host:)`` lets the request through.
    ///
    /// - Throws: `IconError(.permission)` (403) with the one-line reason.
    func require(path: String, origin: String?, host: String?) throws {
        if let reason = refusal(path: path, origin: origin, host: host) {
            throw IconError(.permission, reason)
        }
    }

    /// Whether `origin` is what a WebSocket client library sends (`wss://host[:port]`), never a
    /// browser page's.
    static func isWebSocketClient(origin: String) -> Bool {
        let lower = origin.lowercased()
        return lower.hasPrefix("wss://") || lower.hasPrefix("ws://")
    }

    /// `scheme://host:port` in lowercase with the port made explicit, or `nil` for anything else
    /// (`null`, a path, user info, a query).
    static func normalize(origin: String) -> String? {
        guard let separator = origin.range(of: "://") else { return nil }
        let scheme = origin[..<separator.lowerBound].lowercased()
        guard scheme == "https" || scheme == "http" else { return nil }
        var rest = origin[separator.upperBound...]
        if rest.hasSuffix("/") { rest = rest.dropLast() }
        guard !rest.contains("/"), !rest.contains("@"), !rest.contains("?"), !rest.contains("#") else { return nil }
        return normalize(host: String(rest), scheme: scheme)
    }

    /// `scheme://host:port` for a `Host` header value (`host`, `host:port`, `[v6]:port`).
    static func normalize(host value: String, scheme: String) -> String? {
        let text = value.lowercased()
        let host: Substring
        var port: Substring?
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]") else { return nil }
            host = text[...close]
            let after = text[text.index(after: close)...]
            if !after.isEmpty {
                guard after.hasPrefix(":") else { return nil }
                port = after.dropFirst()
            }
        } else {
            let parts = text.split(separator: ":", omittingEmptySubsequences: false)
            guard parts.count <= 2 else { return nil }
            host = parts[0]
            port = parts.count == 2 ? parts[1] : nil
        }
        guard !host.isEmpty, host.allSatisfy({ $0.isASCII && !$0.isWhitespace }) else { return nil }
        let number: Int
        if let port {
            guard let value = Int(port), (1...65535).contains(value), port.allSatisfy(\.isNumber) else { return nil }
            number = value
        } else {
            number = scheme == "https" ? 443 : 80
        }
        return "\(scheme)://\(host):\(number)"
    }
}
