public import Hummingbird
public import HummingbirdWebSocket
public import NIOCore
import NIOSSL
import SwiftASN1
public import X509

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
        await Self.peerCertificate(of: channel)
    }

    static func peerCertificate(of channel: any Channel) async -> Certificate? {
        guard let peer = try? await channel.nioSSL_peerCertificate().get(),
            let der = try? peer.toDERBytes()
        else { return nil }
        return try? Certificate(derEncoded: der)
    }

    /// The client's chain as the handshake verified it, leaf first and root last; only the leaf
    /// on a resumed TLS session (whose handshake ran no verification); empty without a certificate.
    public func peerChain() async -> [Certificate] {
        await Self.peerChain(of: channel)
    }

    /// ``peerChain()`` of any connection.
    static func peerChain(of channel: any Channel) async -> [Certificate] {
        if let chain = try? await channel.nioSSL_peerValidatedCertificateChain().get() {
            let certificates = chain.compactMap { try? Certificate(derEncoded: $0.toDERBytes()) }
            if certificates.count == chain.count { return certificates }
        }
        return await peerCertificate(of: channel).map { [$0] } ?? []
    }

    /// The subject of the client certificate for logs (`CN=device-1`), or `-`.
    public func peerSubject() async -> String {
        await peerCertificate().map { String(describing: $0.subject) } ?? "-"
    }
}
