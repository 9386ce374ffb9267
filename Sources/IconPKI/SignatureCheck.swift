import Crypto
public import Foundation
public import X509
import _CryptoExtras

/// Checks signatures made by ``SigningKey`` or `openssl dgst -sha256 -sign`.
public enum SignatureCheck {
    /// Whether `signature` is a valid SHA-256 signature over `bytes` by `publicKey`:
    /// ECDSA P-256/P-384 in DER, or RSA PKCS#1 v1.5. Anything else, including a garbled
    /// signature or an unsupported key, is simply not valid.
    public static func isValid(
        _ signature: [UInt8], over bytes: some DataProtocol, publicKey: Certificate.PublicKey
    ) -> Bool {
        let digest = SHA256.hash(data: bytes)
        if let key = P256.Signing.PublicKey(publicKey) {
            guard let parsed = try? P256.Signing.ECDSASignature(derRepresentation: signature) else { return false }
            return key.isValidSignature(parsed, for: digest)
        }
        if let key = P384.Signing.PublicKey(publicKey) {
            guard let parsed = try? P384.Signing.ECDSASignature(derRepresentation: signature) else { return false }
            return key.isValidSignature(parsed, for: digest)
        }
        if let key = _RSA.Signing.PublicKey(publicKey) {
            let parsed = _RSA.Signing.RSASignature(rawRepresentation: signature)
            return key.isValidSignature(parsed, for: digest, padding: .insecurePKCS1v1_5)
        }
        return false
    }
}
