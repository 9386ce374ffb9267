public import Foundation
import SwiftASN1
public import X509
import _CryptoExtras

/// The facts about a certificate an operator wants to see, as labelled lines.
public struct CertificateSummary: Sendable {
    /// `(label, value)` pairs in display order.
    public let fields: [(label: String, value: String)]

    /// Summarises `certificate`, marking validity relative to `now`.
    public init(_ certificate: Certificate, now: Date) {
        var fields: [(String, String)] = [
            ("subject", certificate.subject.description),
            ("issuer", certificate.issuer.description),
            ("serial", certificate.serialNumber.bytes.map { String(format: "%02x", $0) }.joined(separator: ":")),
            ("not before", certificate.notValidBefore.formatted(.iso8601)),
            ("not after", certificate.notValidAfter.formatted(.iso8601) + Self.validityNote(certificate, now: now)),
            ("key", Self.keyDescription(certificate.publicKey)),
        ]
        if case .isCertificateAuthority(let pathLength)? = try? certificate.extensions.basicConstraints {
            fields.append(("CA", pathLength.map { "yes, path length \($0)" } ?? "yes, no path length limit"))
        }
        if let names = try? certificate.extensions.subjectAlternativeNames {
            fields.append(("names", names.map(Self.nameDescription).joined(separator: ", ")))
        }
        if let usage = try? certificate.extensions.keyUsage {
            fields.append(("key usage", Self.keyUsageDescription(usage)))
        }
        if let eku = try? certificate.extensions.extendedKeyUsage {
            fields.append(("extended key usage", eku.map(Self.usageDescription).joined(separator: ", ")))
        }
        let roles = CertificateRole.roles(of: certificate)
        fields.append((
            "roles",
            roles.isEmpty ? "none" : CertificateRole.allCases.filter(roles.contains).map(\.rawValue).joined(separator: ", ")
        ))
        self.fields = fields
    }

    /// The summary as `label: value` lines with aligned values.
    public var text: String {
        let width = fields.map(\.label.count).max() ?? 0
        return fields.map { field in
            (field.label + ":").padding(toLength: width + 2, withPad: " ", startingAt: 0) + field.value
        }.joined(separator: "\n")
    }

    static func validityNote(_ certificate: Certificate, now: Date) -> String {
        if now > certificate.notValidAfter { return " (expired)" }
        if now < certificate.notValidBefore { return " (not yet valid)" }
        return ""
    }

    static func keyDescription(_ key: Certificate.PublicKey) -> String {
        switch key.algorithmName {
        case .p256: "EC P-256"
        case .p384: "EC P-384"
        case .rsa: "RSA \(_RSA.Signing.PublicKey(key)?.keySizeInBits ?? 0)"
        case .other(let name): name
        }
    }

    static func nameDescription(_ name: GeneralName) -> String {
        switch name {
        case .dnsName(let dns): return "DNS:\(dns)"
        case .ipAddress(let octets):
            let bytes = Array(octets.bytes)
            if bytes.count == 4 { return "IP:" + bytes.map(String.init).joined(separator: ".") }
            if bytes.count == 16 {
                let groups = stride(from: 0, to: 16, by: 2).map { String(UInt16(bytes[$0]) << 8 | UInt16(bytes[$0 + 1]), radix: 16) }
                return "IP:" + groups.joined(separator: ":")
            }
            return "IP:?"
        case .rfc822Name(let mail): return "email:\(mail)"
        case .uniformResourceIdentifier(let uri): return "URI:\(uri)"
        default: return String(describing: name)
        }
    }

    static func keyUsageDescription(_ usage: KeyUsage) -> String {
        let flags: [(Bool, String)] = [
            (usage.digitalSignature, "digitalSignature"), (usage.nonRepudiation, "nonRepudiation"),
            (usage.keyEncipherment, "keyEncipherment"), (usage.dataEncipherment, "dataEncipherment"),
            (usage.keyAgreement, "keyAgreement"), (usage.keyCertSign, "keyCertSign"), (usage.cRLSign, "cRLSign"),
            (usage.encipherOnly, "encipherOnly"), (usage.decipherOnly, "decipherOnly"),
        ]
        return flags.filter(\.0).map(\.1).joined(separator: ", ")
    }

    static func usageDescription(_ usage: ExtendedKeyUsage.Usage) -> String {
        switch ASN1ObjectIdentifier(usage) {
        case IconOID.serverAuth: "serverAuth"
        case IconOID.clientAuth: "clientAuth"
        case IconOID.codeSigning: "codeSigning"
        case IconOID.anyExtendedKeyUsage: "any"
        case IconOID.signerRole: "iconograph-signer"
        case IconOID.deviceRole: "iconograph-device"
        case IconOID.operatorRole: "iconograph-operator"
        case IconOID.provisionerRole: "iconograph-provisioner"
        case let oid: oid.description
        }
    }
}
