import Foundation
import IconCore
import SwiftASN1
import X509

#if canImport(Glibc)
import Glibc
#endif

/// How Iconograph's CA fills in certificates: serials, extensions per role, names.
enum IssuancePolicy {
    /// Certificates start a little in the past so clocks that lag slightly accept them.
    static let backdate: TimeInterval = 300

    /// A random positive 20-byte serial number (RFC 5280 allows at most 20 octets).
    static func randomSerial() -> Certificate.SerialNumber {
        var bytes = (0..<20).map { _ in UInt8.random(in: 0...255) }
        // Clear the sign bit and keep the top byte non-zero so the DER integer is 20 bytes.
        bytes[0] = (bytes[0] & 0x7F) | 0x40
        return Certificate.SerialNumber(bytes: bytes)
    }

    /// A PEM document as file bytes, ending in a newline so files can be concatenated.
    static func fileBytes(_ document: PEMDocument) -> [UInt8] {
        Array((document.pemString + "\n").utf8)
    }

    /// The signature algorithm an issuer key signs with: SHA-384 for P-384, SHA-256 otherwise.
    static func signatureAlgorithm(for key: Certificate.PrivateKey) -> Certificate.SignatureAlgorithm {
        switch key.publicKey.algorithmName {
        case .p384: .ecdsaWithSHA384
        case .rsa: .sha256WithRSAEncryption
        default: .ecdsaWithSHA256
        }
    }

    /// Extensions of a CA certificate; `issuer` is `nil` for a self-signed root.
    static func caExtensions(
        publicKey: Certificate.PublicKey, pathLength: Int, issuer: Certificate?
    ) throws -> Certificate.Extensions {
        try Certificate.Extensions {
            Critical(BasicConstraints.isCertificateAuthority(maxPathLength: pathLength))
            Critical(KeyUsage(keyCertSign: true, cRLSign: true))
            SubjectKeyIdentifier(hash: publicKey)
            if let issuer {
                AuthorityKeyIdentifier(keyIdentifier: SubjectKeyIdentifier(hash: issuer.publicKey).keyIdentifier)
            }
        }
    }

    /// Extensions of a leaf for `role`, issued by `issuer`.
    static func leafExtensions(
        role: CertificateRole, publicKey: Certificate.PublicKey, names: [GeneralName], issuer: Certificate
    ) throws -> Certificate.Extensions {
        // RSA server keys may still meet TLS 1.2 RSA key exchange, which needs keyEncipherment.
        let keyEncipherment = role == .server && publicKey.algorithmName == .rsa
        return try Certificate.Extensions {
            Critical(BasicConstraints.notCertificateAuthority)
            Critical(KeyUsage(digitalSignature: true, keyEncipherment: keyEncipherment))
            try ExtendedKeyUsage(role.extendedKeyUsages)
            SubjectKeyIdentifier(hash: publicKey)
            AuthorityKeyIdentifier(keyIdentifier: SubjectKeyIdentifier(hash: issuer.publicKey).keyIdentifier)
            if !names.isEmpty {
                SubjectAlternativeNames(names)
            }
        }
    }

    /// The subject alternative names for `role`: the given DNS names and IP addresses; for a
    /// server or device without any, the common name as a DNS name. Signers, operators and
    /// provisioners carry no names.
    ///
    /// - Throws: `.invalidArgument` for a malformed name or address, or names on a role
    ///   that does not use them.
    static func alternativeNames(
        role: CertificateRole, commonName: String, dnsNames: [String], ipAddresses: [String]
    ) throws -> [GeneralName] {
        switch role {
        case .signer, .operator, .provisioner:
            guard dnsNames.isEmpty, ipAddresses.isEmpty else {
                throw IconError(.invalidArgument, "DNS names and IP addresses apply only to server and device certificates, not \(role.rawValue)")
            }
            return []
        case .server, .device:
            var names: [GeneralName] = []
            for name in dnsNames {
                guard isDNSName(name) else {
                    throw IconError(.invalidArgument, "not a DNS name: '\(name)'")
                }
                names.append(.dnsName(name))
            }
            for address in ipAddresses {
                guard let bytes = ipAddressBytes(address) else {
                    throw IconError(.invalidArgument, "not an IP address: '\(address)'")
                }
                names.append(.ipAddress(ASN1OctetString(contentBytes: bytes[...])))
            }
            if names.isEmpty, isDNSName(commonName) {
                names.append(.dnsName(commonName))
            }
            return names
        }
    }

    /// Letters, digits, hyphens, dots and a leading `*.` wildcard; 1-253 characters.
    static func isDNSName(_ name: String) -> Bool {
        let body = name.hasPrefix("*.") ? String(name.dropFirst(2)) : name
        guard !body.isEmpty, name.count <= 253 else { return false }
        let labels = body.split(separator: ".", omittingEmptySubsequences: false)
        return labels.allSatisfy { label in
            !label.isEmpty && label.count <= 63 && !label.hasPrefix("-") && !label.hasSuffix("-")
                && label.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == "_") }
        }
    }

    /// The 4 or 16 network-order bytes of an IPv4 or IPv6 address, or `nil`.
    static func ipAddressBytes(_ text: String) -> [UInt8]? {
        var v4 = in_addr()
        if inet_pton(AF_INET, text, &v4) == 1 {
            return withUnsafeBytes(of: &v4) { Array($0) }
        }
        var v6 = in6_addr()
        if inet_pton(AF_INET6, text, &v6) == 1 {
            return withUnsafeBytes(of: &v6) { Array($0) }
        }
        return nil
    }
}
