public import Crypto
public import Foundation
import SwiftASN1
public import X509

/// A throwaway PKI built in code for tests: a root, an intermediate, and leaves for every role,
/// written as PEM files into a directory.
public struct TestPKI: Sendable {
    /// A certificate with its private key and the paths of both PEM files.
    public struct Identity: Sendable {
        public let certificate: Certificate
        public let privateKey: P256.Signing.PrivateKey
        public let certPath: String
        public let keyPath: String
    }

    public let directory: String
    public let root: Identity
    public let intermediate: Identity
    /// Manifest signer (digitalSignature), issued by the intermediate.
    public let signer: Identity
    /// HTTPS server for `localhost` and `127.0.0.1`, issued by the intermediate.
    public let server: Identity
    /// Device client certificate (clientAuth) named `device-1`.
    public let device: Identity
    /// Path of a PEM file holding the intermediate, for `--other-cert`.
    public var chainPath: String { intermediate.certPath }

    /// Builds the PKI into `directory` (created if missing), valid from an hour ago for a year.
    public init(directory: String, now: Date = Date()) throws {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        self.directory = directory
        let root = try Self.make(
            name: "Test Root CA", issuer: nil, directory: directory, file: "root", now: now,
            extensions: { key in
                try Certificate.Extensions {
                    Critical(BasicConstraints.isCertificateAuthority(maxPathLength: 1))
                    Critical(KeyUsage(keyCertSign: true, cRLSign: true))
                    SubjectKeyIdentifier(hash: Certificate.PublicKey(key.publicKey))
                }
            })
        let intermediate = try Self.make(
            name: "Test Intermediate CA", issuer: root, directory: directory, file: "intermediate", now: now,
            extensions: { key in
                try Certificate.Extensions {
                    Critical(BasicConstraints.isCertificateAuthority(maxPathLength: 0))
                    Critical(KeyUsage(keyCertSign: true, cRLSign: true))
                    SubjectKeyIdentifier(hash: Certificate.PublicKey(key.publicKey))
                }
            })
        self.root = root
        self.intermediate = intermediate
        signer = try Self.leaf(name: "Test Manifest Signer", issuer: intermediate, directory: directory, file: "signer", now: now, usages: [.codeSigning], names: [])
        server = try Self.leaf(
            name: "localhost", issuer: intermediate, directory: directory, file: "server", now: now,
            usages: [.serverAuth], names: [.dnsName("localhost"), .ipAddress(ASN1OctetString(contentBytes: [127, 0, 0, 1]))])
        device = try Self.leaf(name: "device-1", issuer: intermediate, directory: directory, file: "device", now: now, usages: [.clientAuth], names: [.dnsName("device-1")])
    }

    /// Issues another leaf from the intermediate with the given extended key usages and names.
    public func issueLeaf(
        name: String, file: String, usages: [ExtendedKeyUsage.Usage],
        names: [GeneralName] = [], notValidBefore: Date? = nil, notValidAfter: Date? = nil
    ) throws -> Identity {
        try Self.leaf(
            name: name, issuer: intermediate, directory: directory, file: file, now: Date(), usages: usages, names: names,
            notValidBefore: notValidBefore, notValidAfter: notValidAfter)
    }

    static func leaf(
        name: String, issuer: Identity, directory: String, file: String, now: Date,
        usages: [ExtendedKeyUsage.Usage], names: [GeneralName],
        notValidBefore: Date? = nil, notValidAfter: Date? = nil
    ) throws -> Identity {
        try make(
            name: name, issuer: issuer, directory: directory, file: file, now: now,
            notValidBefore: notValidBefore, notValidAfter: notValidAfter,
            extensions: { key in
                try Certificate.Extensions {
                    Critical(BasicConstraints.notCertificateAuthority)
                    Critical(KeyUsage(digitalSignature: true))
                    try ExtendedKeyUsage(usages)
                    SubjectKeyIdentifier(hash: Certificate.PublicKey(key.publicKey))
                    if !names.isEmpty {
                        SubjectAlternativeNames(names)
                    }
                }
            })
    }

    static func make(
        name: String, issuer: Identity?, directory: String, file: String, now: Date,
        notValidBefore: Date? = nil, notValidAfter: Date? = nil,
        extensions: (P256.Signing.PrivateKey) throws -> Certificate.Extensions
    ) throws -> Identity {
        let key = P256.Signing.PrivateKey()
        let subject = try DistinguishedName {
            OrganizationName("Iconograph Test")
            CommonName(name)
        }
        var exts = try extensions(key)
        if let issuer {
            let aki = AuthorityKeyIdentifier(
                keyIdentifier: SubjectKeyIdentifier(hash: issuer.certificate.publicKey).keyIdentifier)
            try exts.append(Certificate.Extension(aki, critical: false))
        }
        let certificate = try Certificate(
            version: .v3,
            serialNumber: Certificate.SerialNumber(),
            publicKey: Certificate.PublicKey(key.publicKey),
            notValidBefore: notValidBefore ?? now.addingTimeInterval(-3600),
            notValidAfter: notValidAfter ?? now.addingTimeInterval(365 * 86400),
            issuer: issuer?.certificate.subject ?? subject,
            subject: subject,
            signatureAlgorithm: .ecdsaWithSHA256,
            extensions: exts,
            issuerPrivateKey: Certificate.PrivateKey(issuer?.privateKey ?? key)
        )
        let certPath = "\(directory)/\(file).cert.pem"
        let keyPath = "\(directory)/\(file).key.pem"
        try certificate.serializeAsPEM().pemString.write(toFile: certPath, atomically: true, encoding: .utf8)
        try key.pemRepresentation.write(toFile: keyPath, atomically: true, encoding: .utf8)
        chmod(keyPath, 0o600)
        return Identity(certificate: certificate, privateKey: key, certPath: certPath, keyPath: keyPath)
    }
}
