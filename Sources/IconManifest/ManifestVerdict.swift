public import IconCore
import IconPKI
public import X509

/// The outcome of checking a signed manifest: an expected result, not an error.
public enum ManifestVerdict: Sendable {
    /// Chain, signature and content are good; `signer` is the leaf certificate that signed.
    case verified(Manifest, signer: Certificate)
    /// The manifest must not be used; `reason` is one readable line.
    case rejected(reason: String)

    /// The manifest when verified, else nil.
    public var manifest: Manifest? {
        if case .verified(let manifest, _) = self { return manifest }
        return nil
    }

    /// The error code that matches a rejection, for callers that turn it into an error:
    /// `.untrusted` for the chain, `.malformed` for the content, `.expired` for a manifest past
    /// its `expires`, `.badSignature` otherwise;
    /// nil when verified.
    public var rejectionCode: IconError.Code? {
        guard case .rejected(let reason) = self else { return nil }
        if reason.hasPrefix(SignedManifest.untrustedPrefix) || reason.hasPrefix(SignedManifest.thresholdPrefix) {
            return .untrusted
        }
        if reason.hasPrefix(SignedManifest.expiredPrefix) { return .expired }
        if reason.hasPrefix(SignedManifest.revokedPrefix) { return .revoked }
        if reason.hasPrefix(SignedManifest.malformedPrefix) || reason.hasPrefix(SignedManifest.notManifestPrefix) {
            return .malformed
        }
        return .badSignature
    }
}
