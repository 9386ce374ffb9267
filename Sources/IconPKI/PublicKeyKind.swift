import Crypto
import X509
import _CryptoExtras

/// The algorithm and size of a public key, for policies that allow some key types only.
public enum PublicKeyKind: Sendable, Hashable, CustomStringConvertible {
    case p256
    case p384
    case rsa(bits: Int)
    /// Any other algorithm (Ed25519, P-521, ...), with its description.
    case other(String)

    /// The kind of `key`.
    public init(_ key: Certificate.PublicKey) {
        if P256.Signing.PublicKey(key) != nil {
            self = .p256
        } else if P384.Signing.PublicKey(key) != nil {
            self = .p384
        } else if let rsa = _RSA.Signing.PublicKey(key) {
            self = .rsa(bits: rsa.keySizeInBits)
        } else {
            self = .other(String(describing: key))
        }
    }

    public var description: String {
        switch self {
        case .p256: "EC P-256"
        case .p384: "EC P-384"
        case .rsa(let bits): "RSA \(bits)"
        case .other(let text): text
        }
    }
}
