public import X509

extension CertificatePurpose {
    /// Why `certificate` may not be the leaf for this purpose (a CA, or its key usage or
    /// extended key usage forbids it), or nil when it may: the rule ``ChainVerifier`` applies.
    public func problem(with certificate: Certificate) -> PurposeProblem? {
        PurposePolicy.problem(with: certificate, for: self)
    }
}
