import Crypto
import SwiftASN1
public import X509
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

extension PublicKeyKind {
    /// The key kind of a PEM certificate signing request that swift-certificates refuses to
    /// parse, when the reason is its key: swift-crypto rejects RSA keys under 2048 bits while
    /// parsing, so a policy could otherwise only say "malformed". Returns nil when the request
    /// is not even structurally a CSR.
    public init?(unparsedCSRPEM pem: String) {
        guard let document = try? PEMDocument(pemString: pem),
            let root = try? DER.parse(document.derBytes),
            case .constructed(let request) = root.content,
            let info = request.first(where: { _ in true }),
            case .constructed(let fields) = info.content
        else { return nil }
        // CertificationRequestInfo ::= SEQUENCE { version, subject, subjectPKInfo, attributes }
        let children = Array(fields)
        guard children.count >= 3 else { return nil }
        var serializer = DER.Serializer()
        serializer.serialize(children[2])
        guard let rsa = try? _RSA.Signing.PublicKey(unsafeDERRepresentation: serializer.serializedBytes)
        else { return nil }
        self = .rsa(bits: rsa.keySizeInBits)
    }
}

extension PublicKeyKind {
    /// The RSA key size of a DER certificate that swift-certificates refuses to parse because its
    /// RSA key is under 2048 bits (swift-crypto will not load such keys), so a refusal can say
    /// so. Returns nil when no RSA key is found in it.
    public init?(unparsedCertificateDER der: [UInt8]) {
        guard let root = try? DER.parse(der),
            case .constructed(let certificate) = root.content,
            let tbs = certificate.first(where: { _ in true }),
            case .constructed(let fields) = tbs.content
        else { return nil }
        // TBSCertificate ::= SEQUENCE { [0] version, serial, signature, issuer, validity, subject,
        // subjectPublicKeyInfo, ... }: the key info is the SEQUENCE of an algorithm and a BIT STRING.
        for field in fields where field.identifier == .sequence {
            guard case .constructed(let parts) = field.content else { continue }
            let items = Array(parts)
            guard items.count == 2, items[1].identifier == .bitString else { continue }
            var serializer = DER.Serializer()
            serializer.serialize(field)
            guard let rsa = try? _RSA.Signing.PublicKey(unsafeDERRepresentation: serializer.serializedBytes) else { continue }
            self = .rsa(bits: rsa.keySizeInBits)
            return
        }
        return nil
    }
}
