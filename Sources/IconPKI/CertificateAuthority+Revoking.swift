public import Foundation
import IconCore
public import X509

extension CertificateAuthority {
    /// The CRL of the intermediate's certificates, beside its files.
    public static let revocationListFileName = "crl.pem"
    /// The CRL of the root's certificates (the intermediate), signed with the root key.
    public static let rootRevocationListFileName = "root-crl.pem"

    /// How long a new list says it is current (`nextUpdate`).
    public static let revocationListLifetime: TimeInterval = 30 * 86_400

    /// Revokes `certificate`: adds it to the CRL of its issuer (`crl.pem` for a certificate of
    /// the intermediate, signed with the intermediate's key; `root-crl.pem` for the intermediate
    /// itself, signed with the root key, which must be in the directory), with the next CRL
    /// number, and writes the list atomically (mode 0644).
    ///
    /// - Returns: the new list and the path it was written to.
    /// - Throws: `.invalidArgument` when this CA did not issue `certificate`, or it is revoked
    ///   already; `.notFound` naming the root key; `.malformed`/`.untrusted` when the existing
    ///   list is damaged or not this CA's; `.io` naming the file.
    public func revoke(_ certificate: Certificate, source: String, now: Date) throws -> (list: RevocationList, path: String) {
        let issuer: Certificate
        let key: SigningKey
        let path: String
        if certificate.issuer == intermediate.subject, intermediate.publicKey.isValidSignature(certificate.signature, for: certificate) {
            issuer = intermediate
            key = try SigningKey(intermediateKey)
            path = "\(directory)/\(Self.revocationListFileName)"
        } else if certificate == intermediate {
            let rootKeyPath = "\(directory)/\(FileName.rootKey)"
            guard FileManager.default.fileExists(atPath: rootKeyPath) else {
                throw IconError(
                    .notFound,
                    "revoking the intermediate needs the root key, and \(rootKeyPath) is not there; run icon pki revoke where the root key is kept")
            }
            issuer = root
            key = try SigningKey(path: rootKeyPath)
            path = "\(directory)/\(Self.rootRevocationListFileName)"
        } else {
            throw IconError(
                .invalidArgument,
                "\(source) (\(certificate.subject)) was not issued by the CA in \(directory); revoke it with the CA that issued it")
        }
        var entries: [RevocationList.Entry] = []
        var number = 1
        if let text = try RegularFile.contents(atPath: path) {
            let previous = try RevocationList(pemEncoded: String(decoding: text, as: UTF8.self), source: path)
            guard previous.isSigned(by: issuer) else {
                throw IconError(.untrusted, "\(path) is not signed by \(issuer.subject); move it away and revoke again")
            }
            if previous.revokes(certificate) {
                throw IconError(.invalidArgument, "\(source) (\(certificate.subject)) is already revoked in \(path)")
            }
            entries = previous.entries
            number = previous.number + 1
        }
        entries.append(RevocationList.Entry(serial: certificate.serialNumber, revoked: now))
        let list = try RevocationList.make(
            issuer: issuer, key: key, number: number, entries: entries, thisUpdate: now,
            nextUpdate: now.addingTimeInterval(Self.revocationListLifetime))
        try AtomicFile.write(Array(list.pemString.utf8), to: path, mode: 0o644)
        return (list, path)
    }
}
