import Crypto
import Foundation
import SwiftASN1

/// The integrity MAC of a PKCS#12 file: HMAC-SHA-256 over the AuthenticatedSafe, keyed by the
/// PKCS#12 KDF (RFC 7292 appendix B) from the password as a BMPString.
///
/// `MacData ::= SEQUENCE { mac DigestInfo, macSalt OCTET STRING, iterations INTEGER }`.
struct PKCS12MAC: DERSerializable {
    let salt: [UInt8]
    let iterations: Int
    let digest: [UInt8]

    /// The MAC of `authenticatedSafe` (the DER inside the PFX's `data` ContentInfo) with a new
    /// random 16-byte salt.
    init(authenticatedSafe: [UInt8], password: String, iterations: Int) {
        var generator = SystemRandomNumberGenerator()
        let salt = (0..<16).map { _ in UInt8.random(in: .min ... .max, using: &generator) }
        self.init(authenticatedSafe: authenticatedSafe, password: password, salt: salt, iterations: iterations)
    }

    init(authenticatedSafe: [UInt8], password: String, salt: [UInt8], iterations: Int) {
        let key = Self.derive(
            password: Self.bmpPassword(password), salt: salt, id: Self.macKeyID,
            iterations: iterations, count: SHA256.byteCount)
        self.salt = salt
        self.iterations = iterations
        digest = Array(HMAC<SHA256>.authenticationCode(for: authenticatedSafe, using: SymmetricKey(data: key)))
    }

    /// The KDF's purpose byte for MAC keys (1 is for keys, 2 for IVs).
    static let macKeyID: UInt8 = 3

    /// `password` as RFC 7292 B.1 wants it: UTF-16 big-endian with a trailing zero character.
    static func bmpPassword(_ password: String) -> [UInt8] {
        password.utf16.flatMap { [UInt8($0 >> 8), UInt8($0 & 0xFF)] } + [0, 0]
    }

    /// RFC 7292 appendix B.2 with SHA-256 (u = 32, v = 64): `count` bytes of key material from
    /// `password` (already in BMPString form) and `salt`.
    static func derive(password: [UInt8], salt: [UInt8], id: UInt8, iterations: Int, count: Int) -> [UInt8] {
        let u = SHA256.byteCount
        let v = 64
        /// `bytes` repeated to fill a whole number of v-byte blocks (nothing for none).
        func fill(_ bytes: [UInt8]) -> [UInt8] {
            guard !bytes.isEmpty else { return [] }
            let length = v * ((bytes.count + v - 1) / v)
            return (0..<length).map { bytes[$0 % bytes.count] }
        }
        let diversifier = [UInt8](repeating: id, count: v)
        var input = fill(salt) + fill(password)
        var output: [UInt8] = []
        output.reserveCapacity(count + u)
        while output.count < count {
            var block = Array(SHA256.hash(data: diversifier + input))
            for _ in 1..<max(iterations, 1) {
                block = Array(SHA256.hash(data: block))
            }
            output += block
            guard output.count < count else { break }
            // I_j = (I_j + B + 1) mod 2^(8v) for every v-byte block of the input.
            let b = fill(block)
            for start in stride(from: 0, to: input.count, by: v) {
                var carry: UInt16 = 1
                for index in (0..<v).reversed() {
                    let sum = UInt16(input[start + index]) + UInt16(b[index]) + carry
                    input[start + index] = UInt8(sum & 0xFF)
                    carry = sum >> 8
                }
            }
        }
        return Array(output.prefix(count))
    }

    func serialize(into coder: inout DER.Serializer) throws {
        try coder.appendConstructedNode(identifier: .sequence) { macData in
            try macData.appendConstructedNode(identifier: .sequence) { digestInfo in
                try digestInfo.appendConstructedNode(identifier: .sequence) { algorithm in
                    try algorithm.serialize(PKCS12OID.sha256)
                    try algorithm.serialize(ASN1Null())
                }
                try digestInfo.serialize(ASN1OctetString(contentBytes: digest[...]))
            }
            try macData.serialize(ASN1OctetString(contentBytes: salt[...]))
            try macData.serialize(iterations)
        }
    }
}
