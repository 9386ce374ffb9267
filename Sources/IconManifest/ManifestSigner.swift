import Foundation
import IconCore
import IconPKI

/// A signing identity loaded from PEM files: the key, the signer's certificate and the chain
/// certificates that go into `other_certs`.
public struct ManifestSigner: Sendable {
    public let key: SigningKey
    /// PEM of the signer certificate.
    public let certificatePEM: String
    /// PEMs of the chain certificates, in order.
    public let otherCertificatePEMs: [String]

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
        var others = Array(certificates.dropFirst())
        for path in otherCertPaths {
            others += try PEMFile.certificates(atPath: path)
        }
        self.key = key
        // Re-encoding keeps only the certificates (no stray text or keys) in a canonical form.
        self.certificatePEM = try Self.pem(certificates[0], source: certPath)
        self.otherCertificatePEMs = try others.map { try Self.pem($0, source: certPath) }
    }

    /// Signs `manifest` into the wrapper written as `manifest.json`.
    ///
    /// - Throws: `IconError.Code.internal` when signing fails.
    public func sign(_ manifest: Manifest) throws -> Data {
        try SignedManifest.sign(
            inner: manifest.encodedText(), key: key, certificate: certificatePEM, otherCertificates: otherCertificatePEMs)
    }

    static func pem(_ certificate: Certificate, source: String) throws -> String {
        do {
            return try certificate.serializeAsPEM().pemString + "\n"
        } catch {
            throw IconError(.badKey, "cannot encode a certificate from \(source)", cause: error)
        }
    }
}
