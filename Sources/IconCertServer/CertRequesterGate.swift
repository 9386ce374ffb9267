import Foundation
import IconCore
import IconPKI
import SwiftASN1
import Synchronization
import X509

/// Who may ask `icon certserver` for a certificate, and how often.
///
/// When `--client-ca-cert` is the CA of the certificates the server issues (the issuer is in
/// it or chains to it), every device could otherwise mint certificates for any machine id: then
/// only certificates with the provisioner role get in. A separate client CA (the original's
/// "master certificate" CA) admits every certificate it issued. Each requester certificate may
/// make ``requestsPerMinute`` requests in any minute.
final class CertRequesterGate: Sendable {
    enum Admission: Sendable, Equatable {
        /// The client CA issues devices too: provisioner certificates only.
        case provisionersOnly
        /// The client CA is separate from the issuer's: any certificate it issued.
        case separateClientCA
    }

    /// Why a requester is turned away: the HTTP status, the one-line reason, and for 429 the
    /// seconds to wait.
    struct Refusal: Sendable, Equatable {
        let status: Int
        let reason: String
        var retryAfter: Int?
    }

    let admission: Admission
    let requestsPerMinute: Int
    let now: @Sendable () -> ContinuousClock.Instant
    /// Recent request times by requester certificate (SHA-256 of its DER), oldest first.
    private let recent = Mutex<[String: [ContinuousClock.Instant]]>([:])
    /// Requesters remembered at most before idle ones are forgotten.
    static let trackedRequesters = 4096

    init(admission: Admission, requestsPerMinute: Int, now: @escaping @Sendable () -> ContinuousClock.Instant = { .now }) {
        self.admission = admission
        self.requestsPerMinute = requestsPerMinute
        self.now = now
    }

    /// How the server admits requesters, given the certificates of `--client-ca-cert` and the
    /// issuer (its certificate and `--issuer-chain`).
    static func admission(clientCAs: [Certificate], issuer: Certificate, issuerChain: [Certificate]) -> Admission {
        if clientCAs.contains(issuer) { return .provisionersOnly }
        let pool = issuerChain + clientCAs
        var current = issuer
        for _ in 0..<8 {
            if clientCAs.contains(where: { signed(current, by: $0) }) { return .provisionersOnly }
            guard let next = pool.first(where: { $0 != current && signed(current, by: $0) }) else { break }
            current = next
        }
        return .separateClientCA
    }

    static func signed(_ certificate: Certificate, by issuer: Certificate) -> Bool {
        issuer.subject == certificate.issuer && issuer.publicKey.isValidSignature(certificate.signature, for: certificate)
    }

    /// Checks the client certificate of a request (`der`, as the TLS handshake verified it).
    ///
    /// Refuses (403) a certificate that does not parse (an RSA key under 2048 bits), a CA
    /// certificate or one whose key usages forbid TLS client use, and without the provisioner
    /// role under ``Admission/provisionersOnly``; then counts the request (429 past the rate).
    func check(der: [UInt8]?) -> Refusal? {
        guard let der else { return Refusal(status: 403, reason: "the connection has no client certificate") }
        guard let certificate = try? Certificate(derEncoded: der) else {
            if case .rsa(let bits)? = PublicKeyKind(unparsedCertificateDER: der) {
                return Refusal(status: 403, reason: "the client certificate has an RSA key of \(bits) bits; at least 2048 are required")
            }
            return Refusal(status: 403, reason: "the client certificate cannot be read")
        }
        if let problem = CertificatePurpose.clientAuth.problem(with: certificate) {
            return Refusal(status: 403, reason: "the client certificate is refused: \(problem)")
        }
        if admission == .provisionersOnly, !CertificateRole.roles(of: certificate).contains(.provisioner) {
            return Refusal(
                status: 403,
                reason: "icon certserver issues only to provisioner certificates (icon pki issue --role provisioner); \(Self.describe(certificate))")
        }
        return count(FileHasher.sha256Hex(of: der))
    }

    /// `CN=robot-17 is a device`, for the refusal.
    static func describe(_ certificate: Certificate) -> String {
        let roles = CertificateRole.roles(of: certificate)
        let names = CertificateRole.allCases.filter(roles.contains).map(\.rawValue)
        guard !names.isEmpty else { return "\(certificate.subject) has no Iconograph role" }
        return "\(certificate.subject) is a \(names.joined(separator: " and "))"
    }

    /// Records one request of `requester`; refuses it (429) when it already made
    /// ``requestsPerMinute`` in the last minute.
    func count(_ requester: String) -> Refusal? {
        let now = now()
        let window = Duration.seconds(60)
        return recent.withLock { recent in
            var times = recent[requester, default: []].filter { now - $0 < window }
            if times.count >= requestsPerMinute, let oldest = times.first {
                recent[requester] = times
                let wait = window - (now - oldest)
                let seconds = max(1, Int((Double(wait.components.seconds) + Double(wait.components.attoseconds) / 1e18).rounded(.up)))
                return Refusal(
                    status: 429,
                    reason: "more than \(requestsPerMinute) certificate requests a minute from this certificate; retry in \(seconds) s",
                    retryAfter: seconds)
            }
            times.append(now)
            recent[requester] = times
            if recent.count > Self.trackedRequesters {
                recent = recent.filter { _, times in times.last.map { now - $0 < window } ?? false }
            }
            return nil
        }
    }
}
