import Foundation
public import Hummingbird
import HummingbirdTLS
import IconCore
import IconPKI
import IconTLS
public import Logging
public import NIOCore
import NIOSSL
import X509

/// The certificate service (`icon certserver`): an HTTPS server with mutual TLS that signs
/// certificate signing requests for machines.
///
/// Only clients whose certificate chains to the client CA get past the handshake; then
/// ``CertRequesterGate`` admits provisioner certificates, or any certificate of a client CA
/// separate from the issuer's (the original's "master" certificates built into images), each
/// at most ``Configuration/requestsPerMinute`` times a minute (then 429 with `Retry-After`).
/// `POST /` or `POST /sign` with `Content-Type: application/x-pem-file` and a PEM CSR returns
/// the signed certificate (and the CA chain) as PEM; a request the ``CertIssuer`` refuses gets
/// 400 with the reason.
public struct CertServer: Sendable {
    /// Where to listen and which files hold the server's identity and the client CA.
    public struct Configuration: Sendable {
        public var host: String
        public var port: Int
        public var serverCertPath: String
        public var serverKeyPath: String
        public var clientCAPath: String
        /// The largest request body accepted; CSRs are a few KiB.
        public var maxRequestBytes: Int
        /// Requests one requester certificate may make in any minute (`--requests-per-minute`).
        public var requestsPerMinute: Int

        public init(
            host: String = "0.0.0.0", port: Int = 8443, serverCertPath: String, serverKeyPath: String,
            clientCAPath: String, maxRequestBytes: Int = 64 * 1024, requestsPerMinute: Int = 30
        ) {
            self.host = host
            self.port = port
            self.serverCertPath = serverCertPath
            self.serverKeyPath = serverKeyPath
            self.clientCAPath = clientCAPath
            self.maxRequestBytes = maxRequestBytes
            self.requestsPerMinute = requestsPerMinute
        }
    }

    /// The media type of requests and responses.
    public static let pemMediaType = "application/x-pem-file"

    public let configuration: Configuration
    public let issuer: CertIssuer
    public let issuanceLog: IssuanceLog?
    public let logger: Logger

    public init(configuration: Configuration, issuer: CertIssuer, issuanceLog: IssuanceLog?, logger: Logger) {
        self.configuration = configuration
        self.issuer = issuer
        self.issuanceLog = issuanceLog
        self.logger = logger
    }

    /// How requesters are admitted: provisioners only when `--client-ca-cert` is the issuer's
    /// CA (or holds the issuer).
    ///
    /// - Throws: `.notFound`, `.io`, `.badKey` naming the client CA file.
    public func admitsProvisionersOnly() throws -> Bool {
        try admission() == .provisionersOnly
    }

    func admission() throws -> CertRequesterGate.Admission {
        let clientCAs = try PEMFile.certificates(atPath: configuration.clientCAPath)
        return CertRequesterGate.admission(clientCAs: clientCAs, issuer: issuer.caCertificate, issuerChain: issuer.chain)
    }

    /// The Hummingbird application; `onServerRunning` gets the listening channel (tests read
    /// the port from it when binding to port 0). Says in the log when only provisioner
    /// certificates are admitted.
    ///
    /// - Throws: `.notFound`/`.badKey` naming a TLS file that is missing or unreadable;
    ///   `.invalidArgument` for a request rate under 1.
    public func makeApplication(
        onServerRunning: @escaping @Sendable (any Channel) async -> Void = { _ in }
    ) throws -> some ApplicationProtocol {
        let tls = try tlsConfiguration()
        guard configuration.requestsPerMinute >= 1 else {
            throw IconError(.invalidArgument, "--requests-per-minute \(configuration.requestsPerMinute) must be at least 1")
        }
        let admission = try admission()
        if admission == .provisionersOnly {
            logger.notice(
                "--client-ca-cert \(configuration.clientCAPath) is the CA of the certificates this server issues: only provisioner certificates (icon pki issue --role provisioner) are admitted")
        }
        let gate = CertRequesterGate(admission: admission, requestsPerMinute: configuration.requestsPerMinute)
        let router = Router(context: CertRequestContext.self)
        let handler = self
        router.post("/") { request, context in await handler.handle(request, context: context, gate: gate) }
        router.post("/sign") { request, context in await handler.handle(request, context: context, gate: gate) }
        return Application(
            router: router,
            server: try .tls(.http1(), tlsConfiguration: tls),
            configuration: .init(address: .hostname(configuration.host, port: configuration.port), serverName: "icon-certserver"),
            onServerRunning: onServerRunning,
            logger: logger)
    }

    /// Runs until the process is told to stop (SIGTERM/SIGINT).
    public func run() async throws {
        let app = try makeApplication { [logger, configuration] channel in
            logger.info("certserver listening", metadata: ["address": "\(channel.localAddress.map { "\($0)" } ?? configuration.host)"])
        }
        try await ListenFailure.naming(host: configuration.host, port: configuration.port) {
            try await app.runService()
        }
    }

    /// Server TLS: our chain and key, client certificates required and checked against the
    /// client CA, TLS 1.2 or newer.
    func tlsConfiguration() throws -> TLSConfiguration {
        let clientCAs = try ServerTLSFiles.certificates(atPath: configuration.clientCAPath, flag: "--client-ca-cert")
        let files = ServerTLSFiles(certificateChainPath: configuration.serverCertPath, privateKeyPath: configuration.serverKeyPath)
        return try files.configuration(trustingClientsOf: clientCAs)
    }

    /// Checks the requester, the media type, reads the CSR and answers with the certificate or the reason.
    func handle(_ request: Request, context: CertRequestContext, gate: CertRequesterGate) async -> Response {
        let der = await context.peerCertificateDER()
        let requester = await context.peerSubject() ?? (der == nil ? "(no client certificate)" : "(unreadable client certificate)")
        if let refusal = gate.check(der: der) {
            var response = refuse(HTTPResponse.Status(code: refusal.status), refusal.reason, requester: requester)
            if let seconds = refusal.retryAfter { response.headers[.retryAfter] = String(seconds) }
            return response
        }
        let mediaType = request.headers[.contentType]?.split(separator: ";").first
            .map { $0.trimmingCharacters(in: .whitespaces).lowercased() }
        guard mediaType == Self.pemMediaType else {
            return refuse(.unsupportedMediaType, "Content-Type must be \(Self.pemMediaType), not \(mediaType ?? "missing")", requester: requester)
        }
        let body: ByteBuffer
        do {
            body = try await request.body.collect(upTo: configuration.maxRequestBytes)
        } catch {
            return refuse(.contentTooLarge, "the request is larger than \(configuration.maxRequestBytes) bytes", requester: requester)
        }
        switch issuer.issue(csrPEM: String(buffer: body)) {
        case .refused(let reason):
            return refuse(.badRequest, reason, requester: requester)
        case .issued(let issued):
            let record = IssuanceRecord(
                time: Date(), requester: requester, systemID: issued.systemID,
                subject: issued.certificate.subject.description, serial: issued.serialHex,
                notValidAfter: issued.certificate.notValidAfter)
            logger.notice(
                "issued certificate",
                metadata: ["requester": "\(requester)", "subject": "\(record.subject)", "serial": "\(record.serial)"])
            if let issuanceLog {
                do {
                    try issuanceLog.append(record)
                } catch {
                    // An issuance that cannot be recorded is not handed out.
                    logger.error("cannot record issuance; certificate withheld", metadata: ["error": "\(error)"])
                    return Response(status: .internalServerError, headers: [.contentType: "text/plain"], body: .init(byteBuffer: ByteBuffer(string: "cannot record the issuance\n")))
                }
            }
            return Response(
                status: .ok, headers: [.contentType: Self.pemMediaType],
                body: .init(byteBuffer: ByteBuffer(string: issued.pem)))
        }
    }

    func refuse(_ status: HTTPResponse.Status, _ reason: String, requester: String) -> Response {
        logger.warning("refused certificate request", metadata: ["requester": "\(requester)", "reason": "\(reason)"])
        return Response(status: status, headers: [.contentType: "text/plain; charset=utf-8"], body: .init(byteBuffer: ByteBuffer(string: reason + "\n")))
    }
}
