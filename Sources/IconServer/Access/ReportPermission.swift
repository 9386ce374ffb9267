import IconPKI
public import X509

/// The host names a `/ws/slave` connection may report under, decided from its certificate when
/// it connects.
///
/// A machine is who its certificate says (``CertificateIdentity``: its DNS names, else a CN that
/// is a host name), so it cannot report as another machine, receive that machine's commands or
/// overwrite its inventory row.
public enum ReportPermission: Sendable, Equatable {
    /// Only these names: the certificate's identity.
    case only(Set<String>)
    /// Any host name (`--allow-any-report-hostname`). `own` are the certificate's names: a
    /// machine keeps its own name against a certificate that merely claims it, and only claimed
    /// names count against ``FleetHub/Limits/hostnamesPerCertificate``.
    case any(own: Set<String>)
    /// None: the first report closes the connection with this one-line reason.
    case none(reason: String)

    /// The permission of a machine connecting with `certificate`.
    ///
    /// - Parameters:
    ///   - isOperator: an operator's certificate (``OperatorPolicy``) may never report.
    ///   - anyHostname: `--allow-any-report-hostname`.
    public static func forMachine(_ certificate: Certificate?, isOperator: Bool, anyHostname: Bool) -> ReportPermission {
        guard let certificate else { return .none(reason: CloseReason.noCertificate) }
        if isOperator { return .none(reason: CloseReason.operatorMayNotReport) }
        let names = Set(CertificateIdentity.hostnames(of: certificate))
        if anyHostname { return .any(own: names) }
        return names.isEmpty ? .none(reason: CloseReason.noIdentity) : .only(names)
    }

    /// Whether `hostname` is one of the certificate's own names.
    func owns(_ hostname: String) -> Bool {
        switch self {
        case .only(let names), .any(own: let names): names.contains(hostname)
        case .none: false
        }
    }
}
