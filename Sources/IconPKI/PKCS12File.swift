import Crypto
import Foundation
import IconCore
import SwiftASN1
public import X509
import _CryptoExtras

/// Writes PKCS#12 files (PFX, RFC 7292): a certificate, its chain and its private key in one
/// password-protected file, the form browsers and key stores import.
///
/// The layout is what OpenSSL 3 writes by default, which NSS (Chromium, Firefox) and
/// `openssl pkcs12` read: the certificates in an encrypted SafeContents, the key in
/// a PKCS8ShroudedKeyBag, both PBES2 (PBKDF2 with HMAC-SHA-256, AES-256-CBC, random salt and
/// IV), and an HMAC-SHA-256 MAC keyed by the PKCS#12 KDF. The certificate and the key carry the
/// same friendly name and local key id, which is how readers pair them.
public enum PKCS12File {
    /// Iterations of PBKDF2 and of the MAC key derivation: OpenSSL 3's default.
    public static let defaultIterations = 2048

    /// Encodes `certificate`, `chain` (the intermediates, leaf's issuer first) and `privateKey`.
    ///
    /// - Parameters:
    ///   - friendlyName: the name a key store shows; the certificate's common name when nil.
    ///   - password: encrypts the key and certificates and keys the MAC (UTF-8; not empty).
    ///   - iterations: PBKDF2 and MAC iterations, at least 2048.
    /// - Throws: `.invalidArgument` for an empty password or too few iterations, `.badKey` when
    ///   the key is not EC P-256, P-384 or RSA or does not belong to `certificate`, `.internal`
    ///   when encoding or encryption fails.
    public static func encode(
        certificate: Certificate, chain: [Certificate], privateKey: Certificate.PrivateKey,
        password: String, friendlyName: String? = nil, iterations: Int = defaultIterations
    ) throws -> [UInt8] {
        guard !password.isEmpty else {
            throw IconError(.invalidArgument, "the PKCS#12 password must not be empty")
        }
        guard iterations >= defaultIterations else {
            throw IconError(.invalidArgument, "PKCS#12 needs at least \(defaultIterations) iterations, not \(iterations)")
        }
        guard privateKey.publicKey == certificate.publicKey else {
            throw IconError(.badKey, "the private key does not belong to the certificate \(certificate.subject)")
        }
        let keyInfo = try pkcs8(privateKey, of: certificate)
        do {
            let certificateDER = try der(certificate)
            let attributes = BagAttributes(
                friendlyName: friendlyName ?? commonName(of: certificate),
                localKeyID: Array(Insecure.SHA1.hash(data: certificateDER)))
            var certificateBags = [try SafeBag.certificate(certificateDER, attributes: attributes)]
            for issuer in chain {
                certificateBags.append(try SafeBag.certificate(try der(issuer), attributes: nil))
            }
            let keyScheme = PBES2Scheme(iterations: iterations)
            let keyBag = try SafeBag.shroudedKey(
                scheme: keyScheme, ciphertext: try keyScheme.encrypt(keyInfo, password: password),
                attributes: attributes)
            let certificateScheme = PBES2Scheme(iterations: iterations)
            let authenticatedSafe = try der { coder in
                try coder.appendConstructedNode(identifier: .sequence) { safes in
                    try ContentInfo.encryptedData(
                        scheme: certificateScheme,
                        ciphertext: try certificateScheme.encrypt(try der(safeContents: certificateBags), password: password)
                    ).serialize(into: &safes)
                    try ContentInfo.data(try der(safeContents: [keyBag])).serialize(into: &safes)
                }
            }
            let mac = PKCS12MAC(authenticatedSafe: authenticatedSafe, password: password, iterations: iterations)
            return try der { coder in
                try coder.appendConstructedNode(identifier: .sequence) { pfx in
                    try pfx.serialize(3)
                    try ContentInfo.data(authenticatedSafe).serialize(into: &pfx)
                    try mac.serialize(into: &pfx)
                }
            }
        } catch let error as IconError {
            throw error
        } catch {
            throw IconError(.internal, "cannot encode the PKCS#12 file for \(certificate.subject)", cause: error)
        }
    }

    /// `key` as a PKCS#8 PrivateKeyInfo in DER.
    static func pkcs8(_ key: Certificate.PrivateKey, of certificate: Certificate) throws -> [UInt8] {
        if case .other(let name) = key.publicKey.algorithmName {
            throw IconError(.badKey, "cannot put a \(name) key into a PKCS#12 file; use EC P-256, P-384 or RSA")
        }
        do {
            // EC keys serialize as PKCS#8 already; RSA keys as PKCS#1, which swift-crypto rewraps.
            let document = try key.serializeAsPEM()
            switch document.discriminator {
            case "PRIVATE KEY":
                return Array(document.derBytes)
            case "RSA PRIVATE KEY":
                return Array(try _RSA.Signing.PrivateKey(derRepresentation: document.derBytes).pkcs8DERRepresentation)
            default:
                throw IconError(.badKey, "the key of \(certificate.subject) exports as \(document.discriminator), not PKCS#8")
            }
        } catch let error as IconError {
            throw error
        } catch {
            throw IconError(.badKey, "cannot export the private key of \(certificate.subject)", cause: error)
        }
    }

    /// The first common name of the certificate's subject, or its whole subject.
    static func commonName(of certificate: Certificate) -> String {
        certificate.subject.lazy.flatMap { $0 }.first { $0.type == .RDNAttributeType.commonName }
            .map { String(describing: $0.value) } ?? certificate.subject.description
    }

    static func der(_ certificate: Certificate) throws -> [UInt8] {
        try der { try $0.serialize(certificate) }
    }

    static func der(safeContents bags: [SafeBag]) throws -> [UInt8] {
        try der { try $0.serializeSequenceOf(bags) }
    }

    static func der(_ body: (inout DER.Serializer) throws -> Void) throws -> [UInt8] {
        var coder = DER.Serializer()
        try body(&coder)
        return coder.serializedBytes
    }
}
