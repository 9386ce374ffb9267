import Crypto
import Foundation
import SwiftASN1
import _CryptoExtras

/// PBES2 (RFC 8018) with PBKDF2-HMAC-SHA-256 and AES-256-CBC: one random salt and IV, and the
/// AlgorithmIdentifier that names them.
struct PBES2Scheme: DERSerializable {
    let salt: [UInt8]
    let iterations: Int
    let iv: [UInt8]

    /// A scheme with a new random 16-byte salt and IV.
    init(iterations: Int) {
        var generator = SystemRandomNumberGenerator()
        salt = (0..<16).map { _ in UInt8.random(in: .min ... .max, using: &generator) }
        iv = Array(AES._CBC.IV())
        self.iterations = iterations
    }

    init(salt: [UInt8], iterations: Int, iv: [UInt8]) {
        self.salt = salt
        self.iterations = iterations
        self.iv = iv
    }

    /// `plaintext` encrypted under the key PBKDF2 derives from the UTF-8 bytes of `password`
    /// (RFC 8018 section 3), with PKCS#7 padding.
    func encrypt(_ plaintext: [UInt8], password: String) throws -> [UInt8] {
        Array(try AES._CBC.encrypt(plaintext, using: key(password: password), iv: AES._CBC.IV(ivBytes: iv)))
    }

    func key(password: String) throws -> SymmetricKey {
        // The checked API insists on 210,000 rounds; the iteration count is the caller's choice.
        try KDF.Insecure.PBKDF2.deriveKey(
            from: Array(password.utf8), salt: salt, using: .sha256, outputByteCount: 32,
            unsafeUncheckedRounds: iterations)
    }

    func serialize(into coder: inout DER.Serializer) throws {
        try coder.appendConstructedNode(identifier: .sequence) { algorithm in
            try algorithm.serialize(PKCS12OID.pbes2)
            try algorithm.appendConstructedNode(identifier: .sequence) { parameters in
                try parameters.appendConstructedNode(identifier: .sequence) { kdf in
                    try kdf.serialize(PKCS12OID.pbkdf2)
                    try kdf.appendConstructedNode(identifier: .sequence) { pbkdf2 in
                        try pbkdf2.serialize(ASN1OctetString(contentBytes: salt[...]))
                        try pbkdf2.serialize(iterations)
                        // keyLength is left out, as OpenSSL does: AES-256 fixes it.
                        try pbkdf2.appendConstructedNode(identifier: .sequence) { prf in
                            try prf.serialize(PKCS12OID.hmacWithSHA256)
                            try prf.serialize(ASN1Null())
                        }
                    }
                }
                try parameters.appendConstructedNode(identifier: .sequence) { cipher in
                    try cipher.serialize(PKCS12OID.aes256CBC)
                    try cipher.serialize(ASN1OctetString(contentBytes: iv[...]))
                }
            }
        }
    }
}
