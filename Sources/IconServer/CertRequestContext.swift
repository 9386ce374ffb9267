import Hummingbird
import NIOCore
import NIOSSL
import IconPKI

/// The request context of the certificate server: keeps the channel so a handler can name the
/// client certificate that authenticated the connection.
public struct CertRequestContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    let channel: any Channel

    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        channel = source.channel
    }

    /// The subject of the client certificate, or nil when there is none (mTLS makes that
    /// impossible, but the log must not crash on it).
    func peerSubject() async -> String? {
        guard let peer = try? await channel.nioSSL_peerCertificate().get(),
            let der = try? peer.toDERBytes(),
            let certificate = try? Certificate(derEncoded: der)
        else { return nil }
        return certificate.subject.description
    }
}
