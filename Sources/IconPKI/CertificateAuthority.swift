import Crypto
public import Foundation
import IconCore
import SwiftASN1
public import X509

/// A private two-level CA kept in a directory: a P-384 root (path length 1) that signs a
/// P-384 intermediate (path length 0), which issues every leaf.
///
/// Files: `root.cert.pem`, `root.key.pem`, `intermediate.cert.pem`, `intermediate.key.pem`,
/// and `ca-bundle.pem` (root then intermediate, for tools that want the whole chain in one
/// file); keys are mode 0600. The root key is only needed to create the CA; keep it offline after.
public struct CertificateAuthority: Sendable {
    /// The directory holding the CA files.
    public let directory: String
    /// The self-signed root certificate: the trust anchor for `--ca-cert`.
    public let root: Certificate
    /// The intermediate certificate that signs leaves.
    public let intermediate: Certificate
    /// The intermediate's private key.
    let intermediateKey: Certificate.PrivateKey

    /// File names inside ``directory``.
    public enum FileName {
        public static let rootCertificate = "root.cert.pem"
        public static let rootKey = "root.key.pem"
        public static let intermediateCertificate = "intermediate.cert.pem"
        public static let intermediateKey = "intermediate.key.pem"
        /// The root followed by the intermediate (written by ``create(in:commonName:organization:now:)``).
        public static let caBundle = "ca-bundle.pem"
        /// The files whose presence means a CA is there.
        static let all = [rootCertificate, rootKey, intermediateCertificate, intermediateKey]
    }

    /// Path of the root certificate, for `--ca-cert`.
    public var rootCertificatePath: String { "\(directory)/\(FileName.rootCertificate)" }
    /// Path of the intermediate certificate, for `--other-cert`.
    public var intermediateCertificatePath: String { "\(directory)/\(FileName.intermediateCertificate)" }
    /// Path of the root-then-intermediate bundle.
    public var caBundlePath: String { "\(directory)/\(FileName.caBundle)" }

    /// Root lifetime; the intermediate gets half. Leaves never outlive the intermediate.
    static let rootValidityDays = 7305

    /// Creates a new CA in `directory` (created with mode 0700 if missing) valid from `now`.
    ///
    /// The root is named `<commonName> Root CA`, the intermediate `<commonName> Intermediate CA`,
    /// both with organization `organization`.
    /// - Throws: `.invalidArgument` when a CA file already exists there or a name is empty,
    ///   `.permission` when an existing `directory` is writable by its group or others,
    ///   `.io` when a file cannot be written.
    public static func create(
        in directory: String, commonName: String, organization: String, now: Date
    ) throws -> CertificateAuthority {
        guard !commonName.isEmpty, !organization.isEmpty else {
            throw IconError(.invalidArgument, "the CA name and organization must not be empty")
        }
        for name in FileName.all where FileManager.default.fileExists(atPath: "\(directory)/\(name)") {
            throw IconError(.invalidArgument, "a CA already exists in \(directory) (\(name)); refusing to overwrite it")
        }
        try makePrivateDirectory(directory)
        let rootKey = Certificate.PrivateKey(P384.Signing.PrivateKey())
        let intermediateKey = Certificate.PrivateKey(P384.Signing.PrivateKey())
        let notBefore = now.addingTimeInterval(-IssuancePolicy.backdate)
        do {
            let rootName = try DistinguishedName {
                OrganizationName(organization)
                CommonName("\(commonName) Root CA")
            }
            let root = try Certificate(
                version: .v3, serialNumber: IssuancePolicy.randomSerial(), publicKey: rootKey.publicKey,
                notValidBefore: notBefore, notValidAfter: now.addingTimeInterval(Double(rootValidityDays) * 86400),
                issuer: rootName, subject: rootName,
                signatureAlgorithm: IssuancePolicy.signatureAlgorithm(for: rootKey),
                extensions: try IssuancePolicy.caExtensions(publicKey: rootKey.publicKey, pathLength: 1, issuer: nil),
                issuerPrivateKey: rootKey)
            let intermediate = try Certificate(
                version: .v3, serialNumber: IssuancePolicy.randomSerial(), publicKey: intermediateKey.publicKey,
                notValidBefore: notBefore,
                notValidAfter: now.addingTimeInterval(Double(rootValidityDays / 2) * 86400),
                issuer: rootName,
                subject: try DistinguishedName {
                    OrganizationName(organization)
                    CommonName("\(commonName) Intermediate CA")
                },
                signatureAlgorithm: IssuancePolicy.signatureAlgorithm(for: rootKey),
                extensions: try IssuancePolicy.caExtensions(
                    publicKey: intermediateKey.publicKey, pathLength: 0, issuer: root),
                issuerPrivateKey: rootKey)
            // Keys first: a CA directory with certificates but no keys would be useless.
            try AtomicFile.write(
                IssuancePolicy.fileBytes(try rootKey.serializeAsPEM()), to: "\(directory)/\(FileName.rootKey)", mode: 0o600)
            try AtomicFile.write(
                IssuancePolicy.fileBytes(try intermediateKey.serializeAsPEM()),
                to: "\(directory)/\(FileName.intermediateKey)", mode: 0o600)
            try AtomicFile.write(
                IssuancePolicy.fileBytes(try root.serializeAsPEM()), to: "\(directory)/\(FileName.rootCertificate)")
            try AtomicFile.write(
                IssuancePolicy.fileBytes(try intermediate.serializeAsPEM()),
                to: "\(directory)/\(FileName.intermediateCertificate)")
            try AtomicFile.write(
                IssuancePolicy.fileBytes(try root.serializeAsPEM()) + IssuancePolicy.fileBytes(try intermediate.serializeAsPEM()),
                to: "\(directory)/\(FileName.caBundle)", mode: 0o644)
            return CertificateAuthority(
                directory: directory, root: root, intermediate: intermediate, intermediateKey: intermediateKey)
        } catch let error as IconError {
            throw error
        } catch {
            throw IconError(.internal, "cannot build the CA certificates for \(directory)", cause: error)
        }
    }

    /// Creates `directory` with mode 0700 whatever the umask (its parents as the umask says),
    /// or checks that an existing one cannot be written by anyone but its owner: whoever can
    /// replace the files of a CA can make it issue for them.
    ///
    /// - Throws: `.permission` for a group- or world-writable directory, `.invalidArgument`
    ///   for a path that is not a directory, `.io` when it cannot be created.
    static func makePrivateDirectory(_ directory: String) throws {
        var info = stat()
        if lstat(directory, &info) == 0 {
            guard info.st_mode & S_IFMT == S_IFDIR else {
                throw IconError(.invalidArgument, "the CA directory \(directory) exists and is not a directory")
            }
            let mode = info.st_mode & 0o777
            guard mode & 0o022 == 0 else {
                throw IconError(
                    .permission,
                    "the CA directory \(directory) is writable by its group or others (mode \(String(mode, radix: 8))); run chmod 700 \(directory) first")
            }
            return
        }
        let parent = (directory as NSString).deletingLastPathComponent
        do {
            if !parent.isEmpty { try FileManager.default.createDirectory(atPath: parent, withIntermediateDirectories: true) }
        } catch {
            throw IconError(.io, "cannot create the CA directory \(directory)", cause: error)
        }
        guard mkdir(directory, 0o700) == 0 else {
            throw IconError(.io, "cannot create the CA directory \(directory): \(String(cString: strerror(errno)))")
        }
        // mkdir applies the umask; a umask can only remove bits, but say 0700 exactly.
        guard chmod(directory, 0o700) == 0 else {
            throw IconError(.io, "cannot set mode 0700 on the CA directory \(directory): \(String(cString: strerror(errno)))")
        }
    }

    /// Loads the CA in `directory` (the root key is not needed).
    ///
    /// - Throws: `.notFound`/`.io`/`.badKey` naming the file at fault, `.untrusted` when the
    ///   intermediate is not signed by the root or its key does not match it.
    public init(directory: String) throws {
        let rootPath = "\(directory)/\(FileName.rootCertificate)"
        let intermediatePath = "\(directory)/\(FileName.intermediateCertificate)"
        let keyPath = "\(directory)/\(FileName.intermediateKey)"
        guard let root = try PEMFile.certificates(atPath: rootPath).first,
            let intermediate = try PEMFile.certificates(atPath: intermediatePath).first
        else {
            throw IconError(.badKey, "no certificate in \(directory)")
        }
        let key = try PEMFile.privateKey(atPath: keyPath)
        guard key.publicKey == intermediate.publicKey else {
            throw IconError(.untrusted, "\(keyPath) is not the key of \(intermediatePath)")
        }
        guard root.publicKey.isValidSignature(intermediate.signature, for: intermediate) else {
            throw IconError(.untrusted, "\(intermediatePath) is not signed by \(rootPath)")
        }
        self.init(directory: directory, root: root, intermediate: intermediate, intermediateKey: key)
    }

    init(directory: String, root: Certificate, intermediate: Certificate, intermediateKey: Certificate.PrivateKey) {
        self.directory = directory
        self.root = root
        self.intermediate = intermediate
        self.intermediateKey = intermediateKey
    }
}
