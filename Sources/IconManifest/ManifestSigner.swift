public import Foundation
import IconCore
public import IconPKI
import SwiftASN1
public import X509

/// A signing identity loaded from PEM files: the key, the signer's certificate and the chain
/// certificates that go into `other_certs`.
public struct ManifestSigner: Sendable {
    /// A chain certificate and the file it came from (for messages).
    public struct ChainCertificate: Sendable {
        public let certificate: Certificate
        public let source: String
    }

    public let key: SigningKey
    /// The signer certificate.
    public let certificate: Certificate
    /// The chain certificates, in order: those after the first in `certPath`, then those of
    /// each `otherCertPaths` file.
    public let chain: [ChainCertificate]
    /// PEM of the signer certificate.
    public let certificatePEM: String
    /// PEMs of the chain certificates, in order.
    public let otherCertificatePEMs: [String]
    /// The files the identity was loaded from (`--cert`, `--key`).
    public let certPath: String
    public let keyPath: String

    /// Loads and cross-checks the files. Extra certificates after the first in `certPath`
    /// are treated as chain certificates.
    ///
    /// - Throws: `.notFound`, `.io` or `.badKey` naming the file; `.badKey` when the key
    ///   does not belong to the certificate (the manifest would never verify).
    public init(certPath: String, keyPath: String, otherCertPaths: [String] = []) throws {
        let key = try SigningKey(path: keyPath)
        let certificates = try PEMFile.certificates(atPath: certPath)
        guard certificates[0].publicKey == key.publicKey else {
            throw IconError(.badKey, "the key in \(keyPath) does not belong to the certificate in \(certPath)")
        }
        var chain = certificates.dropFirst().map { ChainCertificate(certificate: $0, source: certPath) }
        for path in otherCertPaths {
            chain += try PEMFile.certificates(atPath: path).map { ChainCertificate(certificate: $0, source: path) }
        }
        self.key = key
        self.certificate = certificates[0]
        self.chain = chain
        self.certPath = certPath
        self.keyPath = keyPath
        // Re-encoding keeps only the certificates (no stray text or keys) in a canonical form.
        self.certificatePEM = try Self.pem(certificates[0], source: certPath)
        self.otherCertificatePEMs = try chain.map { try Self.pem($0.certificate, source: $0.source) }
    }

    /// Signs `manifest` into the wrapper written as `manifest.json`, with `coSigners`' signatures
    /// after this one's (see ``SignedManifest/sign(inner:signers:)``).
    ///
    /// - Throws: `IconError.Code.internal` when signing fails.
    public func sign(_ manifest: Manifest, coSigners: [ManifestSigner] = [], crls: [String] = []) throws -> Data {
        try SignedManifest.sign(inner: manifest.encodedText(), signers: ([self] + coSigners).map(\.signing), crls: crls)
    }

    /// This identity as a signature to make.
    public var signing: SignedManifest.Signing {
        SignedManifest.Signing(key: key, certificate: certificatePEM, otherCertificates: otherCertificatePEMs)
    }

    static func pem(_ certificate: Certificate, source: String) throws -> String {
        do {
            return try certificate.serializeAsPEM().pemString + "\n"
        } catch {
            throw IconError(.badKey, "cannot encode a certificate from \(source)", cause: error)
        }
    }
}
