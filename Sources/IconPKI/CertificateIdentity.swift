public import X509

/// The host names a machine's client certificate stands for: who the fleet hub lets it report as.
///
/// A certificate's DNS subject alternative names, or when it has none its common name (what
/// `icon certserver` used to issue), provided that is a host name. One rule for the server,
/// which enforces it, and the agent, which picks the name it reports under.
public enum CertificateIdentity {
    /// The longest host name, in bytes (RFC 1123 and RFC 1035).
    public static let maximumHostnameBytes = 253

    /// The certificate's DNS names; else its common name when that is a host name; else none.
    public static func hostnames(of certificate: Certificate) -> [String] {
        let dns = dnsNames(of: certificate)
        if !dns.isEmpty { return dns }
        guard let commonName = commonName(of: certificate), isHostname(commonName) else { return [] }
        return [commonName]
    }

    /// The DNS names among the subject alternative names, in order.
    public static func dnsNames(of certificate: Certificate) -> [String] {
        guard let names = try? certificate.extensions.subjectAlternativeNames else { return [] }
        return names.compactMap { name in
            if case .dnsName(let value) = name { return value }
            return nil
        }
    }

    /// The subject's only common name, or `nil` when it has none or several.
    public static func commonName(of certificate: Certificate) -> String? {
        let names = certificate.subject.lazy.flatMap { $0 }.filter { $0.type == .RDNAttributeType.commonName }
        guard names.count == 1, let name = names.first else { return nil }
        return String(describing: name.value)
    }

    /// Whether `name` is an RFC 1123 host name: at most 253 bytes of dot-separated labels of 1 to
    /// 63 ASCII letters, digits and hyphens, no label starting or ending with a hyphen.
    public static func isHostname(_ name: String) -> Bool {
        let bytes = Array(name.utf8)
        guard !bytes.isEmpty, bytes.count <= maximumHostnameBytes else { return false }
        return bytes.split(separator: UInt8(ascii: "."), omittingEmptySubsequences: false).allSatisfy { label in
            guard (1...63).contains(label.count), label.first != UInt8(ascii: "-"), label.last != UInt8(ascii: "-")
            else { return false }
            return label.allSatisfy { byte in
                (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte) || (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte)
                    || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) || byte == UInt8(ascii: "-")
            }
        }
    }
}
