import IconPKI

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
}
