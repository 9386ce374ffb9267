public import Foundation
import IconCore
import IconPKI
import SwiftASN1
public import X509

/// Signs certificate signing requests with the CA key the certificate server holds, after
/// checking them against a ``CertPolicy``.
///
/// A request that is malformed, whose signature does not verify, whose key type or subject
/// the policy does not allow, is refused with a reason: an expected outcome, not an error.
/// The issued subject always comes from the policy's template, never from the request, so a
/// machine can choose only its id (the request's CN).
public struct CertIssuer: Sendable {
    /// The outcome of one request.
    public enum Outcome: Sendable {
        case issued(IssuedCertificate)
        case refused(reason: String)
    }

    /// A certificate the issuer signed.
    public struct IssuedCertificate: Sendable {
        public let certificate: Certificate
        /// The machine id taken from the request's CN.
        public let systemID: String
        /// The serial number as lowercase hex, as `openssl x509 -serial` prints it.
        public let serialHex: String
        /// The certificate followed by the CA chain, as PEM.
        public let pem: String
    }

    public let caCertificate: Certificate
    let caKey: Certificate.PrivateKey
    /// Certificates sent after the issued one: the CA when it is not a root, then `--ca-chain`.
    public let chain: [Certificate]
    public let policy: CertPolicy
    let template: SubjectTemplate

    /// An issuer signing with `caKey` as `caCertificate` under `policy`.
    ///
    /// - Throws: `.invalidArgument` when the policy is invalid; `.badKey` when the key does not
    ///   belong to the certificate or the certificate is not a CA.
    public init(caCertificate: Certificate, caKey: Certificate.PrivateKey, chain: [Certificate] = [], policy: CertPolicy) throws {
        try policy.validate()
        guard caKey.publicKey == caCertificate.publicKey else {
            throw IconError(.badKey, "the CA key does not belong to the CA certificate \(caCertificate.subject)")
        }
        guard Self.isCA(caCertificate) else {
            throw IconError(.badKey, "the CA certificate \(caCertificate.subject) is not a certificate authority")
        }
        self.caCertificate = caCertificate
        self.caKey = caKey
        let selfSigned = caCertificate.issuer == caCertificate.subject
        self.chain = (selfSigned ? [] : [caCertificate]) + chain.filter { $0 != caCertificate }
        self.policy = policy
        self.template = try policy.template()
    }

    /// Loads the CA certificate, key and optional extra chain from PEM files.
    ///
    /// - Throws: `.notFound`, `.io`, `.badKey` naming the file; `.invalidArgument` for the policy.
    public init(caCertPath: String, caKeyPath: String, chainPath: String?, policy: CertPolicy) throws {
        guard let certificate = try PEMFile.certificates(atPath: caCertPath).first else {
            throw IconError(.badKey, "no certificate in \(caCertPath)")
        }
        let key = try PEMFile.privateKey(atPath: caKeyPath)
        let chain = try chainPath.map { try PEMFile.certificates(atPath: $0) } ?? []
        try self.init(caCertificate: certificate, caKey: key, chain: chain, policy: policy)
    }

    /// Checks the PEM request `csrPEM` and signs it, valid from `now`.
    public func issue(csrPEM: String, now: Date = Date()) -> Outcome {
        let csr: CertificateSigningRequest
        do {
            csr = try CertificateSigningRequest(pemEncoded: csrPEM)
        } catch {
            if let kind = PublicKeyKind(unparsedCSRPEM: csrPEM), let problem = keyProblem(kind) {
                return .refused(reason: problem)
            }
            return .refused(reason: "malformed certificate signing request: \(Self.shortReason(error))")
        }
        guard csr.publicKey.isValidSignature(csr.signature, for: csr) else {
            return .refused(reason: "the signature of the certificate signing request does not verify")
        }
        if let problem = keyProblem(PublicKeyKind(csr.publicKey)) {
            return .refused(reason: problem)
        }
        guard let systemID = SubjectTemplate.commonName(of: csr.subject) else {
            return .refused(reason: "the request's subject \(csr.subject) must have exactly one CN holding the machine id")
        }
        guard (try? policy.allows(systemID: systemID)) == true else {
            return .refused(reason: "machine id '\(systemID)' in the request's CN does not match \(policy.systemIDPattern)")
        }
        do {
            let certificate = try sign(csr: csr, systemID: systemID, now: now)
            let pem = try ([certificate] + chain).map { try $0.serializeAsPEM().pemString }.joined(separator: "\n") + "\n"
            let serial = certificate.serialNumber.bytes.map { String(format: "%02x", $0) }.joined()
            return .issued(IssuedCertificate(certificate: certificate, systemID: systemID, serialHex: serial, pem: pem))
        } catch {
            return .refused(reason: "cannot issue a certificate for machine id '\(systemID)': \(Self.shortReason(error))")
        }
    }

    /// Why the policy refuses a key of `kind`, or nil when it allows it.
    func keyProblem(_ kind: PublicKeyKind) -> String? {
        let allowed = policy.allowedKeyTypes
        let list = allowed.map(\.rawValue).joined(separator: ", ")
        switch kind {
        case .p256 where allowed.contains(.p256), .p384 where allowed.contains(.p384):
            return nil
        case .rsa(let bits) where allowed.contains(.rsa):
            return bits >= policy.minimumRSABits ? nil : "an RSA key of \(bits) bits is too small; at least \(policy.minimumRSABits) are required"
        default:
            return "a \(kind) key is not allowed; allowed key types: \(list)"
        }
    }

    func sign(csr: CertificateSigningRequest, systemID: String, now: Date) throws -> Certificate {
        let subject = try template.distinguishedName(systemID: systemID)
        // Back-date a little so a machine whose clock is slightly behind accepts it, and never
        // outlive the CA, which would only produce a certificate that fails later.
        let notBefore = now.addingTimeInterval(-300)
        let notAfter = min(now.addingTimeInterval(Double(policy.validityDays) * 86400), caCertificate.notValidAfter)
        let kind = PublicKeyKind(csr.publicKey)
        var isRSA = false
        if case .rsa = kind { isRSA = true }
        let usages: [ExtendedKeyUsage.Usage] = policy.extendedKeyUsages.map { $0 == .clientAuth ? .clientAuth : .serverAuth }
        let serverAuth = policy.extendedKeyUsages.contains(.serverAuth)
        let extensions = try Certificate.Extensions {
            Critical(BasicConstraints.notCertificateAuthority)
            // RSA key exchange (TLS 1.2 without ECDHE) needs keyEncipherment.
            Critical(KeyUsage(digitalSignature: true, keyEncipherment: isRSA))
            try ExtendedKeyUsage(usages)
            SubjectKeyIdentifier(hash: csr.publicKey)
            AuthorityKeyIdentifier(keyIdentifier: SubjectKeyIdentifier(hash: caCertificate.publicKey).keyIdentifier)
            // The machine id as a DNS name too: the fleet hub knows a machine by its certificate's
            // DNS names (CertificateIdentity).
            if serverAuth || CertificateIdentity.isHostname(systemID) {
                SubjectAlternativeNames([.dnsName(systemID)])
            }
        }
        return try Certificate(
            version: .v3,
            serialNumber: Certificate.SerialNumber(),
            publicKey: csr.publicKey,
            notValidBefore: notBefore,
            notValidAfter: notAfter,
            issuer: caCertificate.subject,
            subject: subject,
            signatureAlgorithm: Self.signatureAlgorithm(for: caKey),
            extensions: extensions,
            issuerPrivateKey: caKey)
    }

    static func signatureAlgorithm(for key: Certificate.PrivateKey) -> Certificate.SignatureAlgorithm {
        switch PublicKeyKind(key.publicKey) {
        case .p384: .ecdsaWithSHA384
        case .rsa: .sha256WithRSAEncryption
        default: .ecdsaWithSHA256
        }
    }

    /// Whether `certificate` has basic constraints saying it is a CA.
    public static func isCA(_ certificate: Certificate) -> Bool {
        if case .isCertificateAuthority = try? certificate.extensions.basicConstraints { return true }
        return false
    }

    /// The first line of an error's description; ASN.1 errors carry long source locations.
    static func shortReason(_ error: any Error) -> String {
        let text = String(describing: error)
        return String(text.split(separator: "\n").first ?? "")
    }
}
