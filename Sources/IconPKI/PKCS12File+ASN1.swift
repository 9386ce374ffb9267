import SwiftASN1

/// Object identifiers of PKCS#7, PKCS#9, PKCS#12 and the algorithms a PKCS#12 file names.
enum PKCS12OID {
    static let data: ASN1ObjectIdentifier = [1, 2, 840, 113_549, 1, 7, 1]
    static let encryptedData: ASN1ObjectIdentifier = [1, 2, 840, 113_549, 1, 7, 6]
    static let pkcs8ShroudedKeyBag: ASN1ObjectIdentifier = [1, 2, 840, 113_549, 1, 12, 10, 1, 2]
    static let certBag: ASN1ObjectIdentifier = [1, 2, 840, 113_549, 1, 12, 10, 1, 3]
    static let x509Certificate: ASN1ObjectIdentifier = [1, 2, 840, 113_549, 1, 9, 22, 1]
    static let friendlyName: ASN1ObjectIdentifier = [1, 2, 840, 113_549, 1, 9, 20]
    static let localKeyID: ASN1ObjectIdentifier = [1, 2, 840, 113_549, 1, 9, 21]
    static let pbes2: ASN1ObjectIdentifier = [1, 2, 840, 113_549, 1, 5, 13]
    static let pbkdf2: ASN1ObjectIdentifier = [1, 2, 840, 113_549, 1, 5, 12]
    static let hmacWithSHA256: ASN1ObjectIdentifier = [1, 2, 840, 113_549, 2, 9]
    static let aes256CBC: ASN1ObjectIdentifier = [2, 16, 840, 1, 101, 3, 4, 1, 42]
    static let sha256: ASN1ObjectIdentifier = [2, 16, 840, 1, 101, 3, 4, 2, 1]
}

/// The attributes that pair a certificate with its key: `friendlyName` (a BMPString) and
/// `localKeyId`.
struct BagAttributes: DERSerializable {
    var friendlyName: String
    var localKeyID: [UInt8]

    func serialize(into coder: inout DER.Serializer) throws {
        // UTF-16 code units, big-endian: characters outside the BMP become surrogate pairs,
        // as OpenSSL writes them.
        let name = ASN1BMPString(
            contentBytes: ArraySlice(friendlyName.utf16.flatMap { [UInt8($0 >> 8), UInt8($0 & 0xFF)] }))
        try coder.serializeSetOf([
            Attribute(type: PKCS12OID.friendlyName, value: try PKCS12File.der { try $0.serialize(name) }),
            Attribute(
                type: PKCS12OID.localKeyID,
                value: try PKCS12File.der { try $0.serialize(ASN1OctetString(contentBytes: localKeyID[...])) }),
        ])
    }

    /// `PKCS12Attribute ::= SEQUENCE { attrId, attrValues SET OF }` with one value.
    struct Attribute: DERSerializable {
        var type: ASN1ObjectIdentifier
        /// The DER of the value.
        var value: [UInt8]

        func serialize(into coder: inout DER.Serializer) throws {
            try coder.appendConstructedNode(identifier: .sequence) { attribute in
                try attribute.serialize(type)
                attribute.appendConstructedNode(identifier: .set) { $0.serializeRawBytes(value) }
            }
        }
    }
}

/// `SafeBag ::= SEQUENCE { bagId, bagValue [0] EXPLICIT, bagAttributes SET OF OPTIONAL }`.
struct SafeBag: DERSerializable {
    var type: ASN1ObjectIdentifier
    /// The DER of the bag's value.
    var value: [UInt8]
    var attributes: BagAttributes?

    /// A CertBag holding an X.509 certificate's DER.
    static func certificate(_ der: [UInt8], attributes: BagAttributes?) throws -> SafeBag {
        let value = try PKCS12File.der { coder in
            try coder.appendConstructedNode(identifier: .sequence) { bag in
                try bag.serialize(PKCS12OID.x509Certificate)
                try bag.serialize(explicitlyTaggedWithTagNumber: 0, tagClass: .contextSpecific) {
                    try $0.serialize(ASN1OctetString(contentBytes: der[...]))
                }
            }
        }
        return SafeBag(type: PKCS12OID.certBag, value: value, attributes: attributes)
    }

    /// A PKCS8ShroudedKeyBag: an EncryptedPrivateKeyInfo.
    static func shroudedKey(scheme: PBES2Scheme, ciphertext: [UInt8], attributes: BagAttributes?) throws -> SafeBag {
        let value = try PKCS12File.der { coder in
            try coder.appendConstructedNode(identifier: .sequence) { info in
                try info.serialize(scheme)
                try info.serialize(ASN1OctetString(contentBytes: ciphertext[...]))
            }
        }
        return SafeBag(type: PKCS12OID.pkcs8ShroudedKeyBag, value: value, attributes: attributes)
    }

    func serialize(into coder: inout DER.Serializer) throws {
        try coder.appendConstructedNode(identifier: .sequence) { bag in
            try bag.serialize(type)
            bag.serialize(explicitlyTaggedWithTagNumber: 0, tagClass: .contextSpecific) { $0.serializeRawBytes(value) }
            if let attributes { try bag.serialize(attributes) }
        }
    }
}

/// A PKCS#7 ContentInfo of type `data` or `encryptedData`.
enum ContentInfo: DERSerializable {
    /// `data`: the bytes as an OCTET STRING.
    case data([UInt8])
    /// `encryptedData`: an EncryptedData (version 0) of `data` encrypted with `scheme`.
    case encryptedData(scheme: PBES2Scheme, ciphertext: [UInt8])

    func serialize(into coder: inout DER.Serializer) throws {
        try coder.appendConstructedNode(identifier: .sequence) { info in
            switch self {
            case .data(let bytes):
                try info.serialize(PKCS12OID.data)
                try info.serialize(explicitlyTaggedWithTagNumber: 0, tagClass: .contextSpecific) {
                    try $0.serialize(ASN1OctetString(contentBytes: bytes[...]))
                }
            case .encryptedData(let scheme, let ciphertext):
                try info.serialize(PKCS12OID.encryptedData)
                try info.serialize(explicitlyTaggedWithTagNumber: 0, tagClass: .contextSpecific) { explicit in
                    try explicit.appendConstructedNode(identifier: .sequence) { encryptedData in
                        try encryptedData.serialize(0)
                        try encryptedData.appendConstructedNode(identifier: .sequence) { content in
                            try content.serialize(PKCS12OID.data)
                            try content.serialize(scheme)
                            // encryptedContent [0] IMPLICIT OCTET STRING
                            try ASN1OctetString(contentBytes: ciphertext[...]).serialize(
                                into: &content, withIdentifier: ASN1Identifier(tagWithNumber: 0, tagClass: .contextSpecific))
                        }
                    }
                }
            }
        }
    }
}
