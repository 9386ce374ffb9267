import Crypto
public import Foundation
import IconCore
import SwiftASN1
public import X509

extension CertificateAuthority {
    /// Issues a certificate for `role` with a new P-256 key, signed by the intermediate.
    ///
    /// Server and device certificates carry `dnsNames` and `ipAddresses` as subject
    /// alternative names (the common name when both are empty). The subject is
    /// `O=<the CA's organization>, CN=<commonName>`. Validity starts at `now` (minus a few
    /// minutes for clock skew) and never extends past the intermediate's.
    /// - Throws: `.invalidArgument` for an empty name, a bad name or address, or
    ///   `validityDays` < 1.
    public func issue(
        role: CertificateRole, commonName: String, dnsNames: [String] = [], ipAddresses: [String] = [],
        validityDays: Int, now: Date
    ) throws -> IssuedIdentity {
        let key = Certificate.PrivateKey(P256.Signing.PrivateKey())
        let certificate = try makeLeaf(
            role: role, publicKey: key.publicKey, subject: try subject(commonName: commonName),
            dnsNames: dnsNames, ipAddresses: ipAddresses, validityDays: validityDays, now: now)
        do {
            return IssuedIdentity(
                certificate: certificate,
                certificatePEM: try certificate.serializeAsPEM().pemString + "\n",
                privateKeyPEM: try key.serializeAsPEM().pemString + "\n",
                chainPEM: try intermediate.serializeAsPEM().pemString + "\n",
                privateKey: key, chain: [intermediate])
        } catch {
            throw IconError(.internal, "cannot encode the certificate for \(commonName)", cause: error)
        }
    }

    /// Signs a certificate signing request for `role`, after checking the request's own
    /// signature. The request's subject and requested extensions are ignored: the CA decides
    /// `subject`, the role's extensions and the names (`dnsNames`/`ipAddresses`, or the common
    /// name of `subject` for servers and devices when both are empty).
    /// - Throws: `.badSignature` when the CSR is not signed by its own key,
    ///   `.invalidArgument` for bad names or validity.
    public func sign(
        csr: CertificateSigningRequest, role: CertificateRole, subject: DistinguishedName,
        dnsNames: [String] = [], ipAddresses: [String] = [], validityDays: Int, now: Date
    ) throws -> Certificate {
        guard csr.publicKey.isValidSignature(csr.signature, for: csr) else {
            throw IconError(.badSignature, "the certificate signing request for \(csr.subject) is not signed by its own key")
        }
        if case .other(let name) = csr.publicKey.algorithmName {
            throw IconError(.badKey, "the certificate signing request for \(csr.subject) has a \(name) key; use EC P-256, P-384 or RSA")
        }
        return try makeLeaf(
            role: role, publicKey: csr.publicKey, subject: subject,
            dnsNames: dnsNames, ipAddresses: ipAddresses, validityDays: validityDays, now: now)
    }

    /// `O=<organization of the intermediate>, CN=<commonName>`.
    func subject(commonName: String) throws -> DistinguishedName {
        guard !commonName.isEmpty else {
            throw IconError(.invalidArgument, "the certificate name (common name) must not be empty")
        }
        let organization = intermediate.subject.lazy.flatMap { $0 }
            .first { $0.type == .RDNAttributeType.organizationName }
            .map { String(describing: $0.value) }
        do {
            return try DistinguishedName {
                if let organization { OrganizationName(organization) }
                CommonName(commonName)
            }
        } catch {
            throw IconError(.invalidArgument, "cannot use '\(commonName)' as a certificate name", cause: error)
        }
    }

    func makeLeaf(
        role: CertificateRole, publicKey: Certificate.PublicKey, subject: DistinguishedName,
        dnsNames: [String], ipAddresses: [String], validityDays: Int, now: Date
    ) throws -> Certificate {
        guard validityDays >= 1 else {
            throw IconError(.invalidArgument, "the validity must be at least 1 day, not \(validityDays)")
        }
        let commonName = subject.lazy.flatMap { $0 }.first { $0.type == .RDNAttributeType.commonName }
            .map { String(describing: $0.value) } ?? ""
        let names = try IssuancePolicy.alternativeNames(
            role: role, commonName: commonName, dnsNames: dnsNames, ipAddresses: ipAddresses)
        let notAfter = min(now.addingTimeInterval(Double(validityDays) * 86400), intermediate.notValidAfter)
        do {
            return try Certificate(
                version: .v3, serialNumber: IssuancePolicy.randomSerial(), publicKey: publicKey,
                notValidBefore: max(now.addingTimeInterval(-IssuancePolicy.backdate), intermediate.notValidBefore),
                notValidAfter: notAfter, issuer: intermediate.subject, subject: subject,
                signatureAlgorithm: IssuancePolicy.signatureAlgorithm(for: intermediateKey),
                extensions: try IssuancePolicy.leafExtensions(
                    role: role, publicKey: publicKey, names: names, issuer: intermediate),
                issuerPrivateKey: intermediateKey)
        } catch {
            throw IconError(.internal, "cannot issue the \(role.rawValue) certificate for \(subject)", cause: error)
        }
    }
}
