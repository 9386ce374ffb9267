public import SwiftASN1
import X509

/// Object identifiers private to Iconograph, used as extended key usages to mark roles.
///
/// They live in the UUID arc `2.25` (ITU-T X.667), which needs no registration. A full random
/// UUID is a 128-bit arc, but swift-asn1 stores arcs as `UInt` (64 bits) and refuses to parse
/// larger ones, so a certificate carrying such an OID could not even be loaded. The arc is
/// therefore the UUID `00000000-0000-0000-57b2-c3c061684a1a`, whose value fits in 63 bits and
/// was drawn at random once; roles are numbered children of it.
public enum IconOID {
    /// `2.25.6319328458189589018`: the Iconograph arc.
    public static let arc: ASN1ObjectIdentifier = [2, 25, 6_319_328_458_189_589_018]
    /// `<arc>.1`: may sign manifests.
    public static let signerRole: ASN1ObjectIdentifier = [2, 25, 6_319_328_458_189_589_018, 1]
    /// `<arc>.2`: a fleet device (with clientAuth).
    public static let deviceRole: ASN1ObjectIdentifier = [2, 25, 6_319_328_458_189_589_018, 2]
    /// `<arc>.3`: an operator allowed to administer the server (with clientAuth).
    public static let operatorRole: ASN1ObjectIdentifier = [2, 25, 6_319_328_458_189_589_018, 3]
    /// `<arc>.4`: a provisioner, whom `icon certserver` issues machine certificates to (with clientAuth).
    public static let provisionerRole: ASN1ObjectIdentifier = [2, 25, 6_319_328_458_189_589_018, 4]

    /// `1.3.6.1.5.5.7.3.3`, id-kp-codeSigning.
    public static let codeSigning: ASN1ObjectIdentifier = [1, 3, 6, 1, 5, 5, 7, 3, 3]
    /// `2.5.29.37.0`, anyExtendedKeyUsage.
    public static let anyExtendedKeyUsage: ASN1ObjectIdentifier = [2, 5, 29, 37, 0]
    /// `1.3.6.1.5.5.7.3.1`, id-kp-serverAuth.
    public static let serverAuth: ASN1ObjectIdentifier = [1, 3, 6, 1, 5, 5, 7, 3, 1]
    /// `1.3.6.1.5.5.7.3.2`, id-kp-clientAuth.
    public static let clientAuth: ASN1ObjectIdentifier = [1, 3, 6, 1, 5, 5, 7, 3, 2]
}

extension Certificate {
    /// The extended key usage OIDs of this certificate, or `nil` when it has no (parseable)
    /// extended key usage extension.
    var extendedKeyUsageOIDs: Set<ASN1ObjectIdentifier>? {
        guard let eku = try? extensions.extendedKeyUsage else { return nil }
        return Set(eku.map { ASN1ObjectIdentifier($0) })
    }

    /// Whether the extended key usage extension is present but cannot be parsed.
    var hasBrokenExtendedKeyUsage: Bool {
        guard extensions[oid: .X509ExtensionID.extendedKeyUsage] != nil else { return false }
        return (try? extensions.extendedKeyUsage) == nil
    }

    /// The key usage, or `nil` when absent.
    var keyUsageIfPresent: KeyUsage? {
        try? extensions.keyUsage
    }

    /// Whether basic constraints mark this certificate as a CA.
    var isCertificateAuthority: Bool {
        guard let constraints = try? extensions.basicConstraints else { return false }
        if case .isCertificateAuthority = constraints { return true }
        return false
    }
}
