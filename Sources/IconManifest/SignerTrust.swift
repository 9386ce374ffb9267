import Foundation
import IconCore
public import IconPKI

/// The roots a publisher checks its signed manifest against: the ones the machines trust.
///
/// Given with `--ca-cert`, or found the way `icon pki init` lays a CA out: `root.cert.pem`
/// beside an `--other-cert` file (`ca/intermediate.cert.pem` sits beside `ca/root.cert.pem`),
/// beside `--cert`, or in the `ca/` directory beside `--cert`.
public struct SignerTrust: Sendable {
    /// The file name of a root in a CA directory.
    public static let rootFileName = CertificateAuthority.FileName.rootCertificate
    /// The file name of the intermediate in a CA directory.
    public static let intermediateFileName = CertificateAuthority.FileName.intermediateCertificate

    public let verifier: ChainVerifier
    /// The PEM file the roots were read from.
    public let rootsPath: String
    /// Whether `rootsPath` was found by looking beside the signer files (not given).
    public let foundByLookup: Bool

    /// Trusts every certificate in the PEM file at `rootsPath`.
    ///
    /// - Throws: `.notFound`, `.io` or `.badKey` naming the file.
    public init(rootsPath: String, foundByLookup: Bool = false) throws {
        verifier = try ChainVerifier(rootsFile: rootsPath)
        self.rootsPath = rootsPath
        self.foundByLookup = foundByLookup
    }

    /// The roots from `caCertPath` when given, else from the first candidate of
    /// ``candidates(certPath:otherCertPaths:)`` that exists.
    ///
    /// - Throws: `.notFound` when no root can be found, telling the user to pass `--ca-cert`;
    ///   the errors of ``init(rootsPath:foundByLookup:)``.
    public static func locate(caCertPath: String?, certPath: String, otherCertPaths: [String]) throws -> SignerTrust {
        if let caCertPath { return try SignerTrust(rootsPath: caCertPath) }
        let candidates = candidates(certPath: certPath, otherCertPaths: otherCertPaths)
        guard let found = candidates.first(where: FileManager.default.fileExists(atPath:)) else {
            throw IconError(
                .notFound,
                "no root CA to check the signer against: no \(candidates.joined(separator: " or ")); "
                    + "pass --ca-cert <root.cert.pem> (the one the machines trust)")
        }
        return try SignerTrust(rootsPath: found, foundByLookup: true)
    }

    /// Where a root is looked for, in order: beside each `--other-cert`, beside `--cert`, in
    /// `ca/` beside `--cert`.
    public static func candidates(certPath: String, otherCertPaths: [String]) -> [String] {
        var paths = otherCertPaths.map { sibling(rootFileName, of: $0) }
        paths.append(sibling(rootFileName, of: certPath))
        paths.append(sibling("ca/\(rootFileName)", of: certPath))
        var seen: Set<String> = []
        return paths.filter { seen.insert($0).inserted }
    }

    /// Intermediate files that may complete a chain, for the hint of an incomplete chain:
    /// beside the roots, beside `--cert` and in `ca/` beside it.
    func intermediateCandidates(certPath: String) -> [String] {
        var seen: Set<String> = []
        return [
            Self.sibling(Self.intermediateFileName, of: rootsPath),
            Self.sibling(Self.intermediateFileName, of: certPath),
            Self.sibling("ca/\(Self.intermediateFileName)", of: certPath),
        ].filter { seen.insert($0).inserted && FileManager.default.fileExists(atPath: $0) }
    }

    /// `name` in the directory of `path` (a bare name when `path` has no directory).
    static func sibling(_ name: String, of path: String) -> String {
        let directory = (path as NSString).deletingLastPathComponent
        if directory.isEmpty { return name }
        return directory.hasSuffix("/") ? directory + name : "\(directory)/\(name)"
    }
}
