import Hummingbird
import HummingbirdWebSocket
import NIOCore
import NIOSSL
import X509

/// The request context of every route: Hummingbird's storage plus the connection's `Channel`,
/// kept so handlers can read the client certificate the TLS layer verified.
public struct ServerRequestContext: RequestContext, WebSocketRequestContext {
    public var coreContext: CoreRequestContextStorage
    public let webSocket: WebSocketHandlerReference<ServerRequestContext>
    /// The connection the request arrived on.
    public let channel: any Channel

    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        webSocket = .init()
        channel = source.channel
    }

    /// The verified client certificate of this connection, or `nil` without TLS or when it cannot be parsed.
    public func peerCertificate() async -> Certificate? {
        guard let peer = try? await channel.nioSSL_peerCertificate().get(),
            let der = try? peer.toDERBytes()
        else { return nil }
        return try? Certificate(derEncoded: der)
    }

    /// The subject of the client certificate for logs (`CN=device-1`), or `-`.
    public func peerSubject() async -> String {
        await peerCertificate().map { String(describing: $0.subject) } ?? "-"
    }
}
