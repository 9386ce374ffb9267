import Foundation
import IconCore
import NIOCore

/// A listening socket that could not be opened, as one line naming `--listen`.
public enum ListenFailure {
    /// Runs `body` (a server's run loop) and turns a failure to bind `host:port` into an
    /// `IconError` that names the address, the flag and the fix; other errors pass unchanged.
    public static func naming<T>(host: String, port: Int, _ body: () async throws -> T) async throws -> T {
        do {
            return try await body()
        } catch let error as IOError {
            guard let reason = explain(errno: error.errnoCode) else { throw error }
            let shown = host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)"
            throw IconError(.network, "cannot listen on \(shown) (--listen): \(reason)", cause: error)
        }
    }

    /// What a bind error means and how to fix it; nil for errors that are not about binding.
    public static func explain(errno code: Int32) -> String? {
        switch code {
        case EADDRINUSE: "the address is in use; stop what listens there or choose another port"
        case EACCES: "permission denied; ports below 1024 need root or CAP_NET_BIND_SERVICE"
        case EADDRNOTAVAIL: "no interface of this machine has that address; use one it has, or 0.0.0.0"
        default: nil
        }
    }
}
