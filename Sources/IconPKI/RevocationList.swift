public import Foundation
import IconCore
import SwiftASN1
public import X509

/// An X.509 v2 certificate revocation list (RFC 5280, section 5): which certificates of one
/// issuer are revoked, numbered so a newer list is told from an older one.
///
/// swift-certificates has no CRL type, so the list is encoded and parsed here with swift-asn1
/// and signed with the issuer's ``SigningKey`` (ECDSA or RSA over SHA-256), the way
/// `openssl ca -gencrl` would; `openssl crl -verify` accepts it.
public struct RevocationList: Sendable, Hashable {
    /// One revoked certificate.
    public struct Entry: Sendable, Hashable {
        public var serial: Certificate.SerialNumber
        public var revoked: Date

        public init(serial: Certificate.SerialNumber, revoked: Date) {
            self.serial = serial
            self.revoked = revoked
        }
    }

    /// The issuer whose certificates are listed (and who signed the list).
    public let issuer: DistinguishedName
    /// The CRL number: each new list of an issuer has a higher one.
    public let number: Int
    public let thisUpdate: Date
    public let nextUpdate: Date?
    public let entries: [Entry]
    /// The whole list, DER.
    public let derBytes: [UInt8]
    /// The signed part (`tbsCertList`), DER.
    let signedBytes: [UInt8]
    let signatureAlgorithm: ASN1ObjectIdentifier
    let signature: [UInt8]

    /// The algorithms a list may be signed with: SHA-256 with ECDSA or RSA PKCS#1 v1.5.
    enum Algorithm {
        static let ecdsaWithSHA256: ASN1ObjectIdentifier = [1, 2, 840, 10_045, 4, 3, 2]
        static let sha256WithRSA: ASN1ObjectIdentifier = [1, 2, 840, 113_549, 1, 1, 11]
    }

    enum ExtensionID {
        static let crlNumber: ASN1ObjectIdentifier = [2, 5, 29, 20]
        static let authorityKeyIdentifier: ASN1ObjectIdentifier = [2, 5, 29, 35]
    }

    /// The PEM label of a CRL.
    public static let pemLabel = "X509 CRL"

    /// Makes and signs a list.
    ///
    /// - Parameters:
    ///   - issuer: the certificate of the CA whose certificates are listed; `key` is its key.
    ///   - nextUpdate: when a newer list is due; nil leaves it out.
    /// - Throws: `.badKey` when `key` is not `issuer`'s; `.internal` when encoding fails.
    public static func make(
        issuer: Certificate, key: SigningKey, number: Int, entries: [Entry], thisUpdate: Date, nextUpdate: Date?
    ) throws -> RevocationList {
        guard key.publicKey == issuer.publicKey else {
            throw IconError(.badKey, "the key does not belong to the issuer \(issuer.subject)")
        }
        let algorithm = key.publicKey.algorithmName == .rsa ? Algorithm.sha256WithRSA : Algorithm.ecdsaWithSHA256
        do {
            let keyIdentifier = try issuer.extensions.subjectKeyIdentifier?.keyIdentifier
            var tbs = DER.Serializer()
            try tbs.appendConstructedNode(identifier: .sequence) { coder in
                try coder.serialize(1)  // v2
                try serializeAlgorithm(algorithm, into: &coder)
                try coder.serialize(issuer.subject)
                try serializeTime(thisUpdate, into: &coder)
                if let nextUpdate { try serializeTime(nextUpdate, into: &coder) }
                if !entries.isEmpty {
                    try coder.appendConstructedNode(identifier: .sequence) { list in
                        for entry in entries {
                            try list.appendConstructedNode(identifier: .sequence) { revoked in
                                try revoked.serialize(entry.serial.bytes)
                                try serializeTime(entry.revoked, into: &revoked)
                            }
                        }
                    }
                }
                try coder.serialize(explicitlyTaggedWithTagNumber: 0, tagClass: .contextSpecific) { tagged in
                    try tagged.appendConstructedNode(identifier: .sequence) { extensions in
                        if let keyIdentifier {
                            try extensions.appendConstructedNode(identifier: .sequence) { ext in
                                try ext.serialize(ExtensionID.authorityKeyIdentifier)
                                var value = DER.Serializer()
                                try value.appendConstructedNode(identifier: .sequence) { aki in
                                    try aki.serialize(
                                        ASN1OctetString(contentBytes: keyIdentifier),
                                        explicitlyTaggedWithIdentifier: ASN1Identifier(tagWithNumber: 0, tagClass: .contextSpecific))
                                }
                                try ext.serialize(ASN1OctetString(contentBytes: value.serializedBytes[...]))
                            }
                        }
                        try extensions.appendConstructedNode(identifier: .sequence) { ext in
                            try ext.serialize(ExtensionID.crlNumber)
                            var value = DER.Serializer()
                            try value.serialize(number)
                            try ext.serialize(ASN1OctetString(contentBytes: value.serializedBytes[...]))
                        }
                    }
                }
            }
            let signedBytes = tbs.serializedBytes
            let signature = try key.sign(signedBytes)
            var whole = DER.Serializer()
            try whole.appendConstructedNode(identifier: .sequence) { coder in
                coder.serializeRawBytes(signedBytes)
                try serializeAlgorithm(algorithm, into: &coder)
                try coder.serialize(ASN1BitString(bytes: signature[...]))
            }
            return try RevocationList(derEncoded: whole.serializedBytes)
        } catch let error as IconError {
            throw error
        } catch {
            throw IconError(.internal, "cannot encode the revocation list of \(issuer.subject)", cause: error)
        }
    }

    /// `AlgorithmIdentifier ::= SEQUENCE { algorithm, parameters }`: RSA takes NULL, ECDSA nothing.
    static func serializeAlgorithm(_ algorithm: ASN1ObjectIdentifier, into coder: inout DER.Serializer) throws {
        try coder.appendConstructedNode(identifier: .sequence) { identifier in
            try identifier.serialize(algorithm)
            if algorithm == Algorithm.sha256WithRSA { try identifier.serialize(ASN1Null()) }
        }
    }

    /// UTCTime through 2049, GeneralizedTime after (RFC 5280, 5.1.2.4).
    static func serializeTime(_ date: Date, into coder: inout DER.Serializer) throws {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        let parts = calendar.dateComponents([.year, .month, .day, .hour, .minute, .second], from: date)
        let (year, month, day) = (parts.year ?? 1970, parts.month ?? 1, parts.day ?? 1)
        let (hours, minutes, seconds) = (parts.hour ?? 0, parts.minute ?? 0, parts.second ?? 0)
        if year < 2050 {
            try coder.serialize(try UTCTime(year: year, month: month, day: day, hours: hours, minutes: minutes, seconds: seconds))
        } else {
            try coder.serialize(
                try GeneralizedTime(
                    year: year, month: month, day: day, hours: hours, minutes: minutes, seconds: seconds, fractionalSeconds: 0))
        }
    }

    static func date(_ node: ASN1Node) throws -> Date {
        var parts = DateComponents()
        switch node.identifier {
        case .utcTime:
            let time = try UTCTime(derEncoded: node)
            (parts.year, parts.month, parts.day) = (time.year, time.month, time.day)
            (parts.hour, parts.minute, parts.second) = (time.hours, time.minutes, time.seconds)
        case .generalizedTime:
            let time = try GeneralizedTime(derEncoded: node)
            (parts.year, parts.month, parts.day) = (time.year, time.month, time.day)
            (parts.hour, parts.minute, parts.second) = (time.hours, time.minutes, time.seconds)
        default:
            throw ASN1Error.unexpectedFieldType(node.identifier)
        }
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        guard let date = calendar.date(from: parts) else {
            throw ASN1Error.invalidASN1Object(reason: "a time that is not a date")
        }
        return date
    }

    /// Parses a DER-encoded list. The signature is not checked here (``isSigned(by:)``).
    ///
    /// - Throws: an ASN.1 error for anything that is not a v2 CRL with a CRL number.
    public init(derEncoded bytes: [UInt8]) throws {
        let root = try DER.parse(bytes)
        var fields: (ASN1Node, ASN1ObjectIdentifier, [UInt8])?
        try DER.sequence(root, identifier: .sequence) { nodes in
            guard let tbs = nodes.next(), let algorithmNode = nodes.next(), let signatureNode = nodes.next() else {
                throw ASN1Error.invalidASN1Object(reason: "a CRL has three parts")
            }
            let algorithm = try Self.parseAlgorithm(algorithmNode)
            let signature = try ASN1BitString(derEncoded: signatureNode)
            fields = (tbs, algorithm, Array(signature.bytes))
        }
        guard let (tbs, algorithm, signature) = fields else { throw ASN1Error.invalidASN1Object(reason: "empty CRL") }
        var parsed: (DistinguishedName, Date, Date?, [Entry], Int?)?
        try DER.sequence(tbs, identifier: .sequence) { nodes in
            let version = try Int(derEncoded: &nodes)
            guard version == 1 else { throw ASN1Error.invalidASN1Object(reason: "not a v2 CRL") }
            guard let inner = nodes.next(), try Self.parseAlgorithm(inner) == algorithm else {
                throw ASN1Error.invalidASN1Object(reason: "the signature algorithms differ")
            }
            guard let issuerNode = nodes.next() else { throw ASN1Error.invalidASN1Object(reason: "no issuer") }
            // Not the deprecated implicitly tagged initializer.
            let parseName: (ASN1Node) throws -> DistinguishedName = DistinguishedName.init(derEncoded:)
            let issuer = try parseName(issuerNode)
            guard let thisNode = nodes.next() else { throw ASN1Error.invalidASN1Object(reason: "no thisUpdate") }
            let thisUpdate = try Self.date(thisNode)
            var next: Date?
            var entries: [Entry] = []
            var number: Int?
            while let node = nodes.next() {
                if node.identifier == .utcTime || node.identifier == .generalizedTime, next == nil, entries.isEmpty {
                    next = try Self.date(node)
                } else if node.identifier == .sequence, entries.isEmpty {
                    entries = try DER.sequence(of: RevokedEntry.self, identifier: .sequence, rootNode: node).map(\.entry)
                } else if node.identifier == ASN1Identifier(tagWithNumber: 0, tagClass: .contextSpecific) {
                    number = try Self.crlNumber(node)
                } else {
                    throw ASN1Error.invalidASN1Object(reason: "an unexpected field in the CRL")
                }
            }
            parsed = (issuer, thisUpdate, next, entries, number)
        }
        guard let (issuer, thisUpdate, nextUpdate, entries, number) = parsed else {
            throw ASN1Error.invalidASN1Object(reason: "empty tbsCertList")
        }
        guard let number else { throw ASN1Error.invalidASN1Object(reason: "the CRL has no CRL number") }
        self.issuer = issuer
        self.number = number
        self.thisUpdate = thisUpdate
        self.nextUpdate = nextUpdate
        self.entries = entries
        self.derBytes = bytes
        self.signedBytes = Array(tbs.encodedBytes)
        self.signatureAlgorithm = algorithm
        self.signature = signature
    }

    /// `revokedCertificates` entry: serial, date, extensions (ignored).
    struct RevokedEntry: DERParseable {
        var entry: Entry

        init(derEncoded node: ASN1Node) throws {
            entry = try DER.sequence(node, identifier: .sequence) { nodes in
                guard let serialNode = nodes.next(), let dateNode = nodes.next() else {
                    throw ASN1Error.invalidASN1Object(reason: "a revoked entry needs a serial and a date")
                }
                let serial = try ArraySlice<UInt8>(derEncoded: serialNode)
                let date = try RevocationList.date(dateNode)
                while nodes.next() != nil {}
                return Entry(serial: Certificate.SerialNumber(bytes: serial), revoked: date)
            }
        }
    }

    static func parseAlgorithm(_ node: ASN1Node) throws -> ASN1ObjectIdentifier {
        try DER.sequence(node, identifier: .sequence) { nodes in
            let algorithm = try ASN1ObjectIdentifier(derEncoded: &nodes)
            while nodes.next() != nil {}
            return algorithm
        }
    }

    /// The CRL number among the `[0]` extensions.
    static func crlNumber(_ node: ASN1Node) throws -> Int? {
        guard case .constructed(let children) = node.content, let extensions = children.first(where: { _ in true }) else {
            return nil
        }
        var number: Int?
        try DER.sequence(extensions, identifier: .sequence) { nodes in
            while let ext = nodes.next() {
                try DER.sequence(ext, identifier: .sequence) { fields in
                    let id = try ASN1ObjectIdentifier(derEncoded: &fields)
                    var value: ASN1OctetString?
                    while let field = fields.next() {
                        if field.identifier == .octetString { value = try ASN1OctetString(derEncoded: field) }
                    }
                    if id == ExtensionID.crlNumber, let value {
                        number = try Int(derEncoded: try DER.parse(value.bytes))
                    }
                }
            }
        }
        return number
    }

    /// Whether `issuer` signed this list: its subject is the list's issuer and its key made the
    /// signature (SHA-256 with ECDSA or RSA).
    public func isSigned(by issuer: Certificate) -> Bool {
        guard issuer.subject == self.issuer,
            [Algorithm.ecdsaWithSHA256, Algorithm.sha256WithRSA].contains(signatureAlgorithm)
        else { return false }
        return SignatureCheck.isValid(signature, over: signedBytes, publicKey: issuer.publicKey)
    }

    /// Whether the list revokes `certificate`: it was issued by this list's issuer and its
    /// serial number is listed.
    public func revokes(_ certificate: Certificate) -> Bool {
        certificate.issuer == issuer && entries.contains { $0.serial == certificate.serialNumber }
    }

    /// The list as PEM (`-----BEGIN X509 CRL-----`).
    public var pemString: String {
        PEMDocument(type: Self.pemLabel, derBytes: derBytes).pemString + "\n"
    }

    /// Parses a PEM list.
    ///
    /// - Throws: `.malformed` naming `source`.
    public init(pemEncoded text: String, source: String) throws {
        do {
            let document = try PEMDocument(pemString: text)
            guard document.discriminator == Self.pemLabel else {
                throw IconError(.malformed, "\(source) is not a CRL (it holds a \(document.discriminator))")
            }
            try self.init(derEncoded: document.derBytes)
        } catch let error as IconError {
            throw error
        } catch {
            throw IconError(.malformed, "\(source) is not a valid X.509 CRL", cause: error)
        }
    }
}
