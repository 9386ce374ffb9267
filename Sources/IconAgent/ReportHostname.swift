/// The hostname an agent reports as when `--hostname` is not given.
///
/// The server accepts reports only under a name the machine's client certificate carries, so
/// a machine whose system hostname is not in its certificate (`vm` with a `robot-17`
/// certificate) would be refused on every connect. Then the certificate's name is the better
/// default: it is who the server knows the machine as.
public struct ReportHostname: Sendable, Equatable {
    /// The name to report (and to hash for the rollout rule).
    public var hostname: String
    /// Why it is not the system hostname, for an info log line; nil when it is.
    public var note: String?

    /// - Parameters:
    ///   - system: the system hostname.
    ///   - certificateNames: the DNS names of the client certificate, in order.
    ///   - certificatePath: the certificate file, named in the note.
    /// - Returns: `system` when the certificate lists it (names compare case-insensitively, as
    ///   DNS names do) or lists no DNS name; else the certificate's only name, or its first.
    public static func choose(system: String, certificateNames: [String], certificatePath: String) -> ReportHostname {
        guard let first = certificateNames.first,
            !certificateNames.contains(where: { $0.lowercased() == system.lowercased() })
        else {
            return ReportHostname(hostname: system, note: nil)
        }
        let names = certificateNames.count == 1
            ? "the name it carries"
            : "the first of the names it carries (\(certificateNames.joined(separator: ", ")))"
        return ReportHostname(
            hostname: first,
            note: "the system hostname \(system) is not in the client certificate \(certificatePath); reporting as \(first), \(names) (--hostname overrides)")
    }
}
