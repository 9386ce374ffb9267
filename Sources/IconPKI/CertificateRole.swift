import SwiftASN1
public import X509

/// What an Iconograph certificate is for, as marked by its extended key usages.
public enum CertificateRole: String, CaseIterable, Sendable {
    /// Signs manifests: codeSigning + ``IconOID/signerRole``, key usage digitalSignature.
    case signer
    /// An HTTPS server: serverAuth.
    case server
    /// A fleet device: clientAuth + ``IconOID/deviceRole``.
    case device
    /// An operator: clientAuth + ``IconOID/operatorRole``.
    case `operator`
    /// A provisioner, whom `icon certserver` issues machine certificates to: clientAuth +
    /// ``IconOID/provisionerRole``.
    case provisioner

    /// The extended key usages a certificate for this role carries.
    public var extendedKeyUsages: [ExtendedKeyUsage.Usage] {
        switch self {
        case .signer: [.codeSigning, .init(oid: IconOID.signerRole)]
        case .server: [.serverAuth]
        case .device: [.clientAuth, .init(oid: IconOID.deviceRole)]
        case .operator: [.clientAuth, .init(oid: IconOID.operatorRole)]
        case .provisioner: [.clientAuth, .init(oid: IconOID.provisionerRole)]
        }
    }

    /// The purpose a certificate of this role is checked for.
    public var purpose: CertificatePurpose {
        switch self {
        case .signer: .manifestSigning
        case .server: .serverAuth
        case .device: .clientAuth
        case .operator: .operatorClient
        case .provisioner: .provisionerClient
        }
    }

    /// The roles `certificate` is marked for (empty for CAs and unmarked certificates).
    public static func roles(of certificate: Certificate) -> Set<CertificateRole> {
        guard !certificate.isCertificateAuthority, let eku = certificate.extendedKeyUsageOIDs else { return [] }
        var roles: Set<CertificateRole> = []
        if eku.contains(IconOID.codeSigning), eku.contains(IconOID.signerRole),
            certificate.keyUsageIfPresent?.digitalSignature == true
        {
            roles.insert(.signer)
        }
        if eku.contains(IconOID.serverAuth) { roles.insert(.server) }
        if eku.contains(IconOID.clientAuth) {
            if eku.contains(IconOID.deviceRole) { roles.insert(.device) }
            if eku.contains(IconOID.operatorRole) { roles.insert(.operator) }
            if eku.contains(IconOID.provisionerRole) { roles.insert(.provisioner) }
        }
        return roles
    }
}
