public import Hummingbird
import IconPKI
import NIOCore
import NIOSSL
import SwiftASN1
import X509

/// The request context of the certificate server: keeps the channel so a handler can name the
/// client certificate that authenticated the connection.
public struct CertRequestContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    let channel: any Channel

    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        channel = source.channel
    }

    /// The DER bytes of the client certificate, or nil when there is none (mTLS makes that
    /// impossible, but the handler must not crash on it).
    func peerCertificateDER() async -> [UInt8]? {
        guard let peer = try? await channel.nioSSL_peerCertificate().get() else { return nil }
        return try? peer.toDERBytes()
    }

    /// The subject of the client certificate, or nil when there is none or it does not parse.
    func peerSubject() async -> String? {
        guard let der = await peerCertificateDER(), let certificate = try? Certificate(derEncoded: der) else { return nil }
        return certificate.subject.description
    }
}
