import Crypto
import Foundation
import IconCore
import SwiftASN1
public import X509
import _CryptoExtras

/// Loads certificates and private keys from PEM text in every form OpenSSL writes.
///
/// Keys: EC P-256/P-384 as SEC1 (`EC PRIVATE KEY`, with or without the leading
/// `EC PARAMETERS` block `openssl ecparam -genkey` writes) or PKCS#8 (`PRIVATE KEY`), RSA as
/// PKCS#1 (`RSA PRIVATE KEY`) or PKCS#8. RSA keys under 2048 bits are refused.
public enum PEMFile {
    /// The smallest RSA modulus accepted, in bits.
    public static let minimumRSABits = 2048

    /// Every `CERTIFICATE` block of the PEM file at `path`, in file order.
    ///
    /// - Throws: `.notFound` when the file is missing, `.io` when it cannot be read, `.badKey`
    ///   when it holds no certificate or a garbled one; messages name `path`.
    public static func certificates(atPath path: String) throws -> [Certificate] {
        try certificates(fromPEM: read(path), source: path)
    }

    /// Every `CERTIFICATE` block of `pem`, in order; `source` names the text in errors.
    ///
    /// - Throws: `.badKey` when there is no certificate or one does not parse.
    public static func certificates(fromPEM pem: String, source: String) throws -> [Certificate] {
        let documents = try parse(pem, source: source).filter { $0.discriminator == "CERTIFICATE" }
        guard !documents.isEmpty else {
            throw IconError(.badKey, "no CERTIFICATE block in \(source)")
        }
        return try documents.enumerated().map { index, document in
            do {
                return try Certificate(derEncoded: document.derBytes)
            } catch {
                throw IconError(.badKey, "certificate \(index + 1) in \(source) does not parse", cause: error)
            }
        }
    }

    /// The private key in the PEM file at `path`.
    ///
    /// - Throws: `.notFound`, `.io` or `.badKey` naming `path`.
    public static func privateKey(atPath path: String) throws -> Certificate.PrivateKey {
        try privateKey(fromPEM: read(path), source: path)
    }

    /// The first private key block of `pem`; `source` names the text in errors.
    ///
    /// - Throws: `.badKey` when there is no key, it is encrypted, garbled, of an unsupported
    ///   type, or RSA under ``minimumRSABits``.
    public static func privateKey(fromPEM pem: String, source: String) throws -> Certificate.PrivateKey {
        let documents = try parse(pem, source: source)
        guard let document = documents.first(where: { $0.discriminator.hasSuffix("PRIVATE KEY") }) else {
            throw IconError(.badKey, "no PRIVATE KEY block in \(source)")
        }
        if document.discriminator == "ENCRYPTED PRIVATE KEY" {
            throw IconError(.badKey, "the private key in \(source) is encrypted; store it unencrypted with mode 0600")
        }
        let key: Certificate.PrivateKey
        do {
            key = try Certificate.PrivateKey(pemDocument: document)
        } catch {
            // swift-crypto refuses small RSA keys with a bare "incorrect key size"; say why.
            if let rsa = try? _RSA.Signing.PrivateKey(unsafePEMRepresentation: document.pemString),
                rsa.keySizeInBits < minimumRSABits
            {
                throw IconError(
                    .badKey,
                    "the RSA key in \(source) has \(rsa.keySizeInBits) bits; at least \(minimumRSABits) are required")
            }
            throw IconError(.badKey, "the \(document.discriminator) in \(source) does not parse", cause: error)
        }
        switch key.publicKey.algorithmName {
        case .p256, .p384, .rsa: return key
        case .other(let name):
            throw IconError(.badKey, "the key in \(source) is \(name); only EC P-256, P-384 and RSA are supported")
        }
    }

    /// The PEM blocks of `pem`, or `.badKey` naming `source`.
    static func parse(_ pem: String, source: String) throws -> [PEMDocument] {
        let documents: [PEMDocument]
        do {
            documents = try PEMDocument.parseMultiple(pemString: pem)
        } catch {
            throw IconError(.badKey, "\(source) is not valid PEM", cause: error)
        }
        guard !documents.isEmpty else {
            throw IconError(.badKey, "\(source) holds no PEM block")
        }
        return documents
    }

    /// The text of the file at `path`; invalid UTF-8 is kept (and then fails as PEM).
    static func read(_ path: String) throws -> String {
        guard FileManager.default.fileExists(atPath: path) else {
            throw IconError(.notFound, "\(path) does not exist")
        }
        do {
            let data = try Data(contentsOf: URL(fileURLWithPath: path))
            return String(decoding: data, as: UTF8.self)
        } catch {
            throw IconError(.io, "cannot read \(path)", cause: error)
        }
    }
}

/// The key algorithms Iconograph handles.
enum KeyAlgorithm: Equatable {
    case p256, p384, rsa
    case other(String)
}

extension Certificate.PublicKey {
    /// Which of the supported algorithms this key uses.
    var algorithmName: KeyAlgorithm {
        if P256.Signing.PublicKey(self) != nil { return .p256 }
        if P384.Signing.PublicKey(self) != nil { return .p384 }
        if _RSA.Signing.PublicKey(self) != nil { return .rsa }
        return .other(String(describing: self))
    }
}
