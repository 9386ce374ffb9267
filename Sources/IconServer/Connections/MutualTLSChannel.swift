import Hummingbird
import HummingbirdCore
import IconPKI
import Logging
import NIOCore
import NIOHTTP1
import NIOSSL
import SwiftASN1
import X509

/// The server's child channel: TLS that verifies client certificates with ``ClientTrust``,
/// then `base` (HTTP/1.1 with WebSocket upgrades) behind a ``HubUpgradeGate``.
///
/// A connection over a cap of ``ConnectionCounter`` is closed before anything else; each one
/// admitted gets ``ConnectionDeadlines`` on its decrypted bytes and an ``HTTPExchangeTracker``
/// after the upgrade handler (see ``ConnectionLimits``).
///
/// BoringSSL's own client verification is replaced (NIOSSL's custom verification callback with
/// metadata) for two reasons: the verified chain stays available to handlers
/// (`nioSSL_peerValidatedCertificateChain`), so an operator from an `--operator-ca-cert` CA with
/// an intermediate is recognised by the chain it presented; and intermediates the server knows
/// complete the chain of a client that sends only its leaf, as browsers do. The check itself is
/// `ChainVerifier` (RFC 5280: validity, CA flags, path length, name constraints, signatures,
/// clientAuth), anchored at self-signed roots only.
struct MutualTLSChannel<Base: ServerChildChannel>: ServerChildChannel {
    typealias Value = Base.Value

    let base: Base
    let sslContext: NIOSSLContext
    let trust: ClientTrust
    let gatePaths: Set<String>
    let refuses: HubUpgradeGate.Refuses
    let limits: ConnectionLimits
    let counter: ConnectionCounter
    let logger: Logger

    /// Raised for a connection over a cap of ``ConnectionCounter``; the connection is closed
    /// before its TLS handshake (the refusal is logged there).
    struct ConnectionRefused: Error {}

    func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Value> {
        guard let ticket = counter.admit(channel.remoteAddress) else {
            channel.close(promise: nil)
            return channel.eventLoop.makeFailedFuture(ConnectionRefused())
        }
        channel.closeFuture.whenComplete { _ in ticket.release() }
        let verify: NIOSSLCustomVerificationCallbackWithMetadata = { [trust, logger = self.logger] presented, promise in
            promise.completeWithTask { await Self.verify(presented, trust: trust, logger: logger) }
        }
        return channel.eventLoop.makeCompletedFuture {
            try channel.pipeline.syncOperations.addHandler(
                NIOSSLServerHandler(context: sslContext, configuration: .init(), customVerificationCallbackWithMetadata: verify))
            try channel.pipeline.syncOperations.addHandler(
                ConnectionDeadlines(limits: limits, ticket: ticket, logger: self.logger))
        }.flatMap {
            base.setup(channel: channel, logger: logger)
        }.flatMapThrowing { value in
            let decoder = try channel.pipeline.syncOperations.handler(type: ByteToMessageHandler<HTTPRequestDecoder>.self)
            try channel.pipeline.syncOperations.addHandler(
                HubUpgradeGate(paths: gatePaths, refuses: refuses), position: .after(decoder))
            // Last, after the upgrade handler: between it and the decoder the tracker stalls the
            // upgrade; here it sees plain requests once the handler has let them through.
            let deadlines = try channel.pipeline.syncOperations.handler(type: ConnectionDeadlines.self)
            try channel.pipeline.syncOperations.addHandler(HTTPExchangeTracker(deadlines: deadlines))
            return value
        }
    }

    func handle(value: Value, logger: Logger) async {
        await base.handle(value: value, logger: logger)
    }

    /// Verifies the chain a client presented; a refusal is logged with its reason (the client
    /// only sees a TLS alert).
    static func verify(
        _ presented: [NIOSSLCertificate], trust: ClientTrust, logger: Logger
    ) async -> NIOSSLVerificationResultWithMetadata {
        var certificates: [Certificate] = []
        for certificate in presented {
            guard let der = try? certificate.toDERBytes(), let parsed = try? Certificate(derEncoded: der) else {
                logger.warning("tls: refused a client certificate that does not parse")
                return .failed
            }
            certificates.append(parsed)
        }
        switch await trust.verify(presented: certificates) {
        case .trusted(let chain):
            guard let validated = try? chain.map({ try NIOSSLCertificate(bytes: $0.serializeAsPEM().derBytes, format: .der) }),
                !validated.isEmpty
            else { return .failed }
            return .certificateVerified(VerificationMetadata(ValidatedCertificateChain(validated)))
        case .untrusted(let reason):
            let subject = certificates.first.map { String(describing: $0.subject) } ?? "-"
            logger.warning("tls: refused client certificate: \(reason)", metadata: ["client": "\(subject)"])
            return .failed
        }
    }
}

extension MutualTLSChannel: HTTPChannelHandler where Base: HTTPChannelHandler {
    var responder: HTTPChannelHandler.Responder { base.responder }
}
