import Crypto
public import Foundation
import IconCore
import SwiftASN1
public import X509
import _CryptoExtras

/// A private key that signs bytes the way `openssl dgst -sha256 -sign` does.
///
/// EC keys (P-256, P-384) give an ECDSA signature over SHA-256 as DER; RSA keys give
/// PKCS#1 v1.5 with SHA-256, the original Iconograph's scheme.
public struct SigningKey: Sendable {
    enum Backing: Sendable {
        case p256(P256.Signing.PrivateKey)
        case p384(P384.Signing.PrivateKey)
        case rsa(_RSA.Signing.PrivateKey)
    }

    let backing: Backing

    /// The key as a certificate private key (for issuing certificates with it).
    public let privateKey: Certificate.PrivateKey

    /// Wraps `privateKey`.
    ///
    /// - Throws: `.badKey` when the key is not EC P-256, P-384 or RSA.
    public init(_ privateKey: Certificate.PrivateKey) throws {
        // Certificate.PrivateKey hides its backing key; its PEM form round-trips into the
        // swift-crypto type we need to sign with SHA-256 on every curve.
        let pem: String
        do {
            pem = try privateKey.serializeAsPEM().pemString
        } catch {
            throw IconError(.badKey, "cannot export the private key for signing", cause: error)
        }
        do {
            switch privateKey.publicKey.algorithmName {
            case .p256: backing = .p256(try P256.Signing.PrivateKey(pemRepresentation: pem))
            case .p384: backing = .p384(try P384.Signing.PrivateKey(pemRepresentation: pem))
            case .rsa: backing = .rsa(try _RSA.Signing.PrivateKey(pemRepresentation: pem))
            case .other(let name):
                throw IconError(.badKey, "cannot sign with a \(name) key; use EC P-256, P-384 or RSA")
            }
        } catch let error as IconError {
            throw error
        } catch {
            throw IconError(.badKey, "cannot load the private key for signing", cause: error)
        }
        self.privateKey = privateKey
    }

    /// Loads the key from the PEM file at `path` (see ``PEMFile``).
    public init(path: String) throws {
        try self.init(PEMFile.privateKey(atPath: path))
    }

    /// The matching public key.
    public var publicKey: Certificate.PublicKey { privateKey.publicKey }

    /// Signs `bytes`: ECDSA-SHA256 as DER, or RSA PKCS#1 v1.5 SHA-256.
    ///
    /// - Throws: `.internal` when the crypto library fails.
    public func sign(_ bytes: some DataProtocol) throws -> [UInt8] {
        let digest = SHA256.hash(data: bytes)
        do {
            switch backing {
            case .p256(let key): return Array(try key.signature(for: digest).derRepresentation)
            case .p384(let key): return Array(try key.signature(for: digest).derRepresentation)
            case .rsa(let key):
                return Array(try key.signature(for: digest, padding: .insecurePKCS1v1_5).rawRepresentation)
            }
        } catch {
            throw IconError(.internal, "signing failed", cause: error)
        }
    }
}
