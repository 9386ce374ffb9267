import Foundation
import IconCore
public import X509

/// A certificate fresh from ``CertificateAuthority/issue(role:commonName:dnsNames:ipAddresses:validityDays:now:)``
/// with its new private key and the intermediate to send along as its chain.
public struct IssuedIdentity: Sendable {
    /// The issued certificate.
    public let certificate: Certificate
    /// The certificate as PEM.
    public let certificatePEM: String
    /// The private key as PKCS#8 PEM.
    public let privateKeyPEM: String
    /// The intermediate certificate as PEM (the chain to present with the certificate).
    public let chainPEM: String
    /// The new private key.
    public let privateKey: Certificate.PrivateKey
    /// The certificates above ``certificate`` to present with it: the intermediate.
    public let chain: [Certificate]

    /// The certificate followed by the intermediate.
    public var fullChainPEM: String {
        certificatePEM.hasSuffix("\n") ? certificatePEM + chainPEM : certificatePEM + "\n" + chainPEM
    }

    /// Writes `<prefix>.cert.pem` (0644), `<prefix>.key.pem` (0600) and `<prefix>.chain.pem`
    /// (0644: the certificate followed by the intermediate, what a TLS server or client
    /// presents) atomically, creating the parent directory if needed, and returns their paths.
    ///
    /// - Throws: `.io` naming the file that could not be written.
    @discardableResult
    public func write(prefix: String) throws -> (certificate: String, key: String, chain: String) {
        try Self.createParentDirectory(of: prefix)
        let paths = (certificate: "\(prefix).cert.pem", key: "\(prefix).key.pem", chain: "\(prefix).chain.pem")
        // The key goes first so a certificate never sits on disk without its key.
        try AtomicFile.write(Array(privateKeyPEM.utf8), to: paths.key, mode: 0o600)
        try AtomicFile.write(Array(certificatePEM.utf8), to: paths.certificate, mode: 0o644)
        try AtomicFile.write(Array(fullChainPEM.utf8), to: paths.chain, mode: 0o644)
        return paths
    }

    /// Creates the directory that `prefix` names files in, if it is missing.
    ///
    /// - Throws: `.io` naming the directory.
    static func createParentDirectory(of prefix: String) throws {
        // Not NSString's deletingLastPathComponent: Foundation traps on a one-character path
        // (`icon pki issue --out a` crashed).
        guard let slash = prefix.lastIndex(of: "/") else { return }
        let directory = String(prefix[..<slash])
        guard !directory.isEmpty else { return }
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        } catch {
            throw IconError(.io, "cannot create the directory \(directory)", cause: error)
        }
    }
}
