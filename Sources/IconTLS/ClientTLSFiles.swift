public import AsyncHTTPClient
import Foundation
import IconCore
import IconPKI
import NIOCore
public import NIOSSL
import X509

/// The TLS files a device-side HTTPS client uses: the CA that the server's certificate must
/// chain to, and an optional client certificate and key. Each is named by its flag in errors.
public struct ClientTLSFiles: Sendable {
    public var caCertPath: String?
    public var clientCertPath: String?
    public var clientKeyPath: String?
    /// Flag names for error messages (`--https-ca-cert` for fetch-archive, `--ca-cert` for certclient).
    public var flags: (ca: String, cert: String, key: String)

    public init(
        caCertPath: String?, clientCertPath: String?, clientKeyPath: String?,
        flags: (ca: String, cert: String, key: String) = ("--https-ca-cert", "--https-client-cert", "--https-client-key")
    ) {
        self.caCertPath = caCertPath
        self.clientCertPath = clientCertPath
        self.clientKeyPath = clientKeyPath
        self.flags = flags
    }

    /// A TLS 1.2+ client configuration from the files, after ``validate()``: every command that
    /// connects builds its TLS this way, so a bad local file fails before any connection.
    ///
    /// - Throws: `.invalidArgument` for a certificate without a key (or the reverse),
    ///   `.notFound` for a missing file, `.badKey` for one that does not parse or a key that
    ///   does not belong to the certificate.
    public func configuration() throws -> TLSConfiguration {
        try validate()
        var tls = TLSConfiguration.makeClientConfiguration()
        tls.minimumTLSVersion = .tlsv12
        // After an aborted transfer the server may never answer our close_notify; do not
        // hold the command for NIOSSL's default 5 s waiting for it.
        tls.shutdownTimeout = .milliseconds(250)
        if let caCertPath {
            tls.trustRoots = .certificates(try certificates(caCertPath, flag: flags.ca))
        }
        switch (clientCertPath, clientKeyPath) {
        case (nil, nil):
            break
        case (let cert?, let key?):
            tls.certificateChain = try certificates(cert, flag: flags.cert).map { .certificate($0) }
            let keyBytes = try readFile(key, flag: flags.key)
            do {
                tls.privateKey = .privateKey(try NIOSSLPrivateKey(bytes: keyBytes, format: .pem))
            } catch {
                throw IconError(.badKey, "\(flags.key) \(key) holds no readable PEM private key", cause: error)
            }
        case (_?, nil):
            throw IconError(.invalidArgument, "\(flags.cert) needs \(flags.key)")
        case (nil, _?):
            throw IconError(.invalidArgument, "\(flags.key) needs \(flags.cert)")
        }
        return tls
    }

    /// Checks the files without connecting: each exists and parses, and the key belongs to the
    /// certificate (the first one in `clientCertPath`), compared by public key.
    ///
    /// - Throws: as ``configuration()``; the mismatch is `.badKey` naming both files.
    public func validate() throws {
        if let caCertPath { _ = try certificates(caCertPath, flag: flags.ca) }
        switch (clientCertPath, clientKeyPath) {
        case (nil, nil):
            return
        case (let certPath?, let keyPath?):
            let certificate = try x509Certificates(certPath, flag: flags.cert)[0]
            let key = try x509Key(keyPath, flag: flags.key)
            guard key.publicKey == certificate.publicKey else {
                throw IconError(
                    .badKey,
                    "\(flags.key) \(keyPath) does not match \(flags.cert) \(certPath): the key is not the one the certificate was issued for")
            }
        case (_?, nil):
            throw IconError(.invalidArgument, "\(flags.cert) needs \(flags.key)")
        case (nil, _?):
            throw IconError(.invalidArgument, "\(flags.key) needs \(flags.cert)")
        }
    }

    /// The DNS names of the client certificate (its subject alternative names), in order;
    /// empty without a certificate.
    ///
    /// - Throws: as ``validate()``.
    public func clientCertificateDNSNames() throws -> [String] {
        guard let clientCertPath else { return [] }
        return CertificateIdentity.dnsNames(of: try x509Certificates(clientCertPath, flag: flags.cert)[0])
    }

    /// The host names the server lets this client certificate report under
    /// (``CertificateIdentity/hostnames(of:)``: its DNS names, else a CN that is a host name);
    /// empty without a certificate.
    ///
    /// - Throws: as ``validate()``.
    public func clientCertificateHostnames() throws -> [String] {
        guard let clientCertPath else { return [] }
        return CertificateIdentity.hostnames(of: try x509Certificates(clientCertPath, flag: flags.cert)[0])
    }

    /// The certificates of `path` as swift-certificates parses them; errors name the flag.
    func x509Certificates(_ path: String, flag: String) throws -> [Certificate] {
        let text = String(decoding: try readFile(path, flag: flag), as: UTF8.self)
        return try PEMFile.certificates(fromPEM: text, source: "\(flag) \(path)")
    }

    /// The private key of `path` as swift-certificates parses it; errors name the flag.
    func x509Key(_ path: String, flag: String) throws -> Certificate.PrivateKey {
        let text = String(decoding: try readFile(path, flag: flag), as: UTF8.self)
        return try PEMFile.privateKey(fromPEM: text, source: "\(flag) \(path)")
    }

    /// An HTTP client using ``configuration()``; it fails a refused handshake at once instead
    /// of retrying until the connect timeout. The caller shuts it down.
    public func makeHTTPClient(connectTimeout: Duration = .seconds(10)) throws -> HTTPClient {
        var configuration = HTTPClient.Configuration(
            tlsConfiguration: try configuration(),
            redirectConfiguration: .disallow,
            timeout: .init(connect: .milliseconds(Int64(connectTimeout / .milliseconds(1))), read: .seconds(60)),
            decompression: .disabled)
        configuration.connectionPool.retryConnectionEstablishment = false
        configuration.httpVersion = .http1Only
        return HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup, configuration: configuration)
    }

    func certificates(_ path: String, flag: String) throws -> [NIOSSLCertificate] {
        let bytes = try readFile(path, flag: flag)
        let list: [NIOSSLCertificate]
        do {
            list = try NIOSSLCertificate.fromPEMBytes(bytes)
        } catch {
            throw IconError(.badKey, "\(flag) \(path) holds no readable PEM certificate", cause: error)
        }
        guard !list.isEmpty else { throw IconError(.badKey, "\(flag) \(path) holds no certificate") }
        return list
    }

    /// The bytes of `path`: `.notFound` when it is missing, `.io` when it cannot be read.
    func readFile(_ path: String, flag: String) throws -> [UInt8] {
        guard FileManager.default.fileExists(atPath: path) else {
            throw IconError(.notFound, "\(flag) \(path) does not exist")
        }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw IconError(.io, "\(flag) \(path) cannot be read (permission denied?)")
        }
        return [UInt8](data)
    }
}
