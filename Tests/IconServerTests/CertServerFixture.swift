import AsyncHTTPClient
import Crypto
import Foundation
import Hummingbird
@testable import IconCertServer
import IconPKI
@testable import IconServer
import IconTestSupport
import Logging
import NIOCore
import NIOHTTP1
import NIOSSL
import SwiftASN1
import Testing
import X509

/// A certificate server on 127.0.0.1:0 with a test PKI: the intermediate is both the CA that
/// signs requests and the issuer of the server and client certificates, and the client CA is
/// its root, so only provisioner certificates are admitted (``provisioner``).
struct CertServerFixture {
    let pki: TestPKI
    let dir: TemporaryDirectory
    let serverChainPath: String
    let logPath: String
    /// A client certificate with the provisioner role, presented by default.
    let provisioner: TestPKI.Identity

    init(dir: TemporaryDirectory) throws {
        self.dir = dir
        pki = try TestPKI(directory: dir.join("pki"))
        // The server presents its leaf and the intermediate so clients trusting the root accept it.
        serverChainPath = dir.join("server-chain.pem")
        try (String(contentsOfFile: pki.server.certPath, encoding: .utf8) + "\n" + String(contentsOfFile: pki.intermediate.certPath, encoding: .utf8))
            .write(toFile: serverChainPath, atomically: true, encoding: .utf8)
        logPath = dir.join("issued.jsonl")
        provisioner = try pki.issueLeaf(
            name: "Imaging Station", file: "provisioner", usages: [.clientAuth, .init(oid: IconOID.provisionerRole)])
    }

    /// - Parameters:
    ///   - clientCAPath: `--client-ca-cert`; the test root (the issuer's own CA) when `nil`.
    ///   - logger: receives the server's log; none is kept when `nil`.
    func server(
        policy: CertPolicy = CertPolicy(subjectTemplate: "/C=US/ST=California/O=Example/CN=SYSTEMID"),
        clientCAPath: String? = nil, requestsPerMinute: Int = 30, logger: Logger? = nil
    ) throws -> CertServer {
        let issuer = try CertIssuer(caCertPath: pki.intermediate.certPath, caKeyPath: pki.intermediate.keyPath, chainPath: nil, policy: policy)
        return CertServer(
            configuration: .init(
                host: "127.0.0.1", port: 0, serverCertPath: serverChainPath, serverKeyPath: pki.server.keyPath,
                clientCAPath: clientCAPath ?? pki.root.certPath, requestsPerMinute: requestsPerMinute),
            issuer: issuer, issuanceLog: IssuanceLog(path: logPath),
            logger: logger ?? Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() }))
    }

    /// Runs `server` while `body` gets its port; stops it afterwards, also when `body` throws.
    static func withRunning<T: Sendable>(_ server: CertServer, _ body: @Sendable (Int) async throws -> T) async throws -> T {
        let ports = Loopback.Ports()
        let app = try server.makeApplication { ports.report($0.localAddress?.port ?? 0) }
        return try await ports.serve({ try await app.runService(gracefulShutdownSignals: []) }, body)
    }

    /// A client trusting the test root, presenting `identity` (the provisioner by default) and
    /// the test intermediate, or `intermediatePath`, unless `withClientCertificate` is false.
    func client(withClientCertificate: Bool = true, identity: TestPKI.Identity? = nil, intermediatePath: String? = nil) throws -> HTTPClient {
        let identity = identity ?? provisioner
        var tls = TLSConfiguration.makeClientConfiguration()
        tls.trustRoots = .certificates(try NIOSSLCertificate.fromPEMFile(pki.root.certPath))
        if withClientCertificate {
            let chain = try NIOSSLCertificate.fromPEMFile(identity.certPath) + NIOSSLCertificate.fromPEMFile(intermediatePath ?? pki.intermediate.certPath)
            tls.certificateChain = chain.map { .certificate($0) }
            tls.privateKey = .privateKey(try NIOSSLPrivateKey(file: identity.keyPath, format: .pem))
        }
        return try Self.client(tls: tls)
    }

    /// An HTTP client with `tls` that fails fast instead of retrying the handshake.
    static func client(tls: TLSConfiguration) throws -> HTTPClient {
        var configuration = HTTPClient.Configuration(tlsConfiguration: tls, timeout: .init(connect: .seconds(Int64(TestTiming.seconds(30))), read: .seconds(Int64(TestTiming.seconds(30)))))
        configuration.connectionPool.retryConnectionEstablishment = false
        configuration.connectionPool.retryConnectionEstablishment = false
        return HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup, configuration: configuration)
    }

    /// Runs `body` with ``client(withClientCertificate:identity:intermediatePath:)`` and shuts the client down after.
    func withClient<T: Sendable>(
        withClientCertificate: Bool = true, identity: TestPKI.Identity? = nil, intermediatePath: String? = nil,
        _ body: (HTTPClient) async throws -> T
    ) async throws -> T {
        try await Self.with(try client(withClientCertificate: withClientCertificate, identity: identity, intermediatePath: intermediatePath), body)
    }

    /// Runs `body` with `client` and shuts it down after, also when `body` throws.
    static func with<T: Sendable>(_ client: HTTPClient, _ body: (HTTPClient) async throws -> T) async throws -> T {
        do {
            let result = try await body(client)
            try await client.shutdown()
            return result
        } catch {
            try? await client.shutdown()
            throw error
        }
    }

    /// POSTs `body` to `https://127.0.0.1:<port>/sign` and returns status and body text.
    static func post(_ client: HTTPClient, port: Int, body: String, contentType: String = CertServer.pemMediaType, path: String = "/sign") async throws -> (status: UInt, text: String) {
        let response = try await postWithHeaders(client, port: port, body: body, contentType: contentType, path: path)
        return (response.status, response.text)
    }

    /// ``post(_:port:body:contentType:path:)`` with the response headers.
    static func postWithHeaders(
        _ client: HTTPClient, port: Int, body: String, contentType: String = CertServer.pemMediaType, path: String = "/sign"
    ) async throws -> (status: UInt, text: String, headers: HTTPHeaders) {
        var request = HTTPClientRequest(url: "https://127.0.0.1:\(port)\(path)")
        request.method = .POST
        request.headers.add(name: "Content-Type", value: contentType)
        request.body = .bytes(ByteBuffer(string: body))
        let response = try await client.execute(request, timeout: .seconds(Int64(TestTiming.seconds(30))))
        let bytes = try await response.body.collect(upTo: 1 << 20)
        return (response.status.code, String(buffer: bytes), response.headers)
    }

    /// A CSR for `commonName` made in Swift with a fresh P-256 key.
    static func swiftCSR(commonName: String) throws -> String {
        let key = Certificate.PrivateKey(P256.Signing.PrivateKey())
        let csr = try CertificateSigningRequest(
            version: .v1, subject: try DistinguishedName { CommonName(commonName) }, privateKey: key,
            attributes: .init(), signatureAlgorithm: .ecdsaWithSHA256)
        return try csr.serializeAsPEM().pemString
    }

    /// `pem` with one bit flipped in the last byte of its DER (inside the signature).
    static func flipLastByte(ofPEM pem: String) throws -> String {
        let lines = pem.split(separator: "\n").map(String.init)
        let body = lines.filter { !$0.hasPrefix("-----") }.joined()
        var der = [UInt8](try #require(Data(base64Encoded: body)))
        der[der.count - 1] ^= 0x01
        let encoded = Data(der).base64EncodedString(options: [.lineLength64Characters, .endLineWithLineFeed])
        return "\(lines.first!)\n\(encoded)\n\(lines.last!)\n"
    }

    /// A CSR made by `openssl req -new` with a new key of `keySpec` (e.g. `ec:P-384` is not
    /// valid for -newkey, so use `rsa:2048` or `ec` with `-pkeyopt`).
    func opensslCSR(commonName: String, newKey: [String], name: String) throws -> String {
        let csrPath = dir.join("\(name).csr.pem")
        try OpenSSLTool.mustRun(
            ["req", "-new", "-nodes"] + newKey + ["-keyout", dir.join("\(name).key.pem"), "-subj", "/O=Ignored/CN=\(commonName)", "-out", csrPath])
        return try String(contentsOfFile: csrPath, encoding: .utf8)
    }
}
