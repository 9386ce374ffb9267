public import X509

/// What a certificate is being checked for.
public enum CertificatePurpose: Sendable, CaseIterable, CustomStringConvertible {
    /// Signing manifests: key usage (if present) has digitalSignature; extended key usage is
    /// absent or has codeSigning, anyExtendedKeyUsage or the Iconograph signer role; at least
    /// one of the two is present.
    case manifestSigning
    /// A TLS server.
    case serverAuth
    /// A TLS client (devices and operators).
    case clientAuth
    /// A TLS client with the Iconograph operator role.
    case operatorClient
    /// A TLS client with the Iconograph provisioner role (`icon certserver`'s requesters).
    case provisionerClient

    public var description: String {
        switch self {
        case .manifestSigning: "manifest signing"
        case .serverAuth: "TLS server"
        case .clientAuth: "TLS client"
        case .operatorClient: "operator client"
        case .provisionerClient: "provisioner client"
        }
    }
}

/// The outcome of checking a certificate chain: an expected result, not an error.
public enum ChainVerdict: Sendable {
    /// The leaf chains to a trusted root; `chain` runs from the leaf to the root.
    case trusted(chain: [Certificate])
    /// The leaf is not trusted for the purpose; `reason` is one readable line.
    case untrusted(reason: String)

    /// Whether the verdict is `.trusted`.
    public var isTrusted: Bool {
        if case .trusted = self { return true }
        return false
    }
}
