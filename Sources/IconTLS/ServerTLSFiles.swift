import Foundation
import IconCore
public import NIOSSL

/// A TLS server's certificate chain and private key (`--cert`, `--key`): loaded once, with
/// errors that name the flag and the file, for the fleet server and the certificate server.
public struct ServerTLSFiles: Sendable, Equatable {
    /// The PEM certificate chain, the server's certificate first (`--cert`).
    public var certificateChainPath: String
    /// The PEM private key of that certificate (`--key`).
    public var privateKeyPath: String

    public init(certificateChainPath: String, privateKeyPath: String) {
        self.certificateChainPath = certificateChainPath
        self.privateKeyPath = privateKeyPath
    }

    /// A TLS 1.2+ server configuration that requires a client certificate issued by one of
    /// `clientCAs`, checked now: a certificate and key that do not match fail here, naming
    /// both files, rather than at the first handshake.
    ///
    /// - Throws: `.notFound`/`.permission` for a missing or unreadable file, `.badKey` for one
    ///   that does not parse or a key that does not match the certificate.
    public func configuration(trustingClientsOf clientCAs: [NIOSSLCertificate]) throws -> TLSConfiguration {
        let chain = try Self.certificates(atPath: certificateChainPath, flag: "--cert")
        try Self.requireReadable(privateKeyPath, flag: "--key")
        let key: NIOSSLPrivateKey
        do {
            key = try NIOSSLPrivateKey(file: privateKeyPath, format: .pem)
        } catch {
            throw IconError(.badKey, "--key \(privateKeyPath) holds no usable PEM private key", cause: error)
        }
        var tls = TLSConfiguration.makeServerConfigurationWithMTLS(
            certificateChain: chain.map { .certificate($0) },
            privateKey: .privateKey(key),
            trustRoots: .certificates(clientCAs))
        tls.minimumTLSVersion = .tlsv12
        do {
            _ = try NIOSSLContext(configuration: tls)
        } catch {
            throw IconError(
                .badKey, "--cert \(certificateChainPath) and --key \(privateKeyPath) are not a matching certificate and key",
                cause: error)
        }
        return tls
    }

    /// The certificates of the PEM file at `path`, given with `flag`; at least one.
    ///
    /// - Throws: `.notFound`, `.permission`, or `.badKey` when it holds no usable certificate.
    public static func certificates(atPath path: String, flag: String) throws -> [NIOSSLCertificate] {
        try requireReadable(path, flag: flag)
        let certificates: [NIOSSLCertificate]
        do {
            certificates = try NIOSSLCertificate.fromPEMFile(path)
        } catch {
            throw IconError(.badKey, "\(flag) \(path) holds no usable PEM certificate", cause: error)
        }
        guard !certificates.isEmpty else {
            throw IconError(.badKey, "\(flag) \(path) holds no PEM certificate")
        }
        return certificates
    }

    /// Throws `.notFound` or `.permission`, naming `flag` and `path`, unless the file can be read.
    public static func requireReadable(_ path: String, flag: String) throws {
        guard FileManager.default.fileExists(atPath: path) else {
            throw IconError(.notFound, "\(flag) \(path) does not exist")
        }
        guard FileManager.default.isReadableFile(atPath: path) else {
            throw IconError(.permission, "\(flag) \(path) is not readable")
        }
    }
}
