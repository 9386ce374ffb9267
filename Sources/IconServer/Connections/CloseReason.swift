/// The reasons the hub closes a machine's connection with (WebSocket close code 1008), and the
/// limit a close frame puts on them.
///
/// Agents log the reason as an error, so it says what was refused and what the certificate
/// allows: `report as 'vm' refused: the certificate names robot-17`.
enum CloseReason {
    /// A close frame's payload is at most 125 bytes, two of them the code.
    static let maximumBytes = 123

    static let reportWithoutHostname = "report without a hostname refused: set the machine's hostname"
    static let noCertificate = "report refused: the connection has no client certificate"
    static let operatorMayNotReport = "report refused: an operator certificate may not report as a machine"
    static let noIdentity = "report refused: the certificate names no hostname (no DNS name, no CN that is one)"

    /// `report as '<hostname>' refused: not an RFC 1123 hostname ...`.
    static func invalidHostname(_ hostname: String) -> String {
        "report as '\(shown(hostname))' refused: not an RFC 1123 hostname (labels of letters, digits, hyphens)"
    }

    /// The certificate (by subject) claimed ``FleetHub/Limits/hostnamesPerCertificate`` other names.
    static func tooManyHostnamesForCertificate(_ hostname: String, limit: Int) -> String {
        "report as '\(shown(hostname))' refused: this certificate already reported under \(limit) other hostnames"
    }

    static func tooManyHostnamesForConnection(_ hostname: String, limit: Int) -> String {
        "report as '\(shown(hostname))' refused: this connection already reported under \(limit) hostnames"
    }

    /// A certificate that merely claims a name another connected certificate carries.
    static func hostnameOwned(_ hostname: String) -> String {
        "report as '\(shown(hostname))' refused: it is connected with a certificate that names it"
    }

    /// Sent to the older connection when a newer one reports under its name.
    static func replaced(_ hostname: String) -> String {
        "a newer connection reports as '\(shown(hostname))'; this one is closed"
    }

    static func reportTooLarge(_ bytes: Int, limit: Int) -> String {
        "report of \(bytes) bytes refused: at most \(limit) are accepted"
    }

    /// A hostname as it appears in a reason: printable and at most 36 bytes, so every reason
    /// with one fits ``maximumBytes``.
    static func shown(_ hostname: String) -> String {
        let printable = printable(hostname)
        return printable.utf8.count <= 36 ? printable : clip(printable, to: 33) + "..."
    }

    /// `report as '<hostname>' refused: the certificate names <names>`, with the hostname and
    /// then the name list shortened (ending in `...`) to fit ``maximumBytes``.
    static func hostnameRefused(_ hostname: String, allowed: [String]) -> String {
        let head = "report as '\(clip(printable(hostname), to: 40))' refused: the certificate names "
        let names = printable(allowed.joined(separator: ", "))
        if head.utf8.count + names.utf8.count <= maximumBytes { return head + names }
        return head + clip(names, to: maximumBytes - head.utf8.count - 3) + "..."
    }

    /// `text` with control characters replaced by `?`.
    static func printable(_ text: String) -> String {
        String(String.UnicodeScalarView(text.unicodeScalars.map { $0.properties.generalCategory == .control ? "?" : $0 }))
    }

    /// The longest prefix of `text` of at most `bytes` UTF-8 bytes, cut between characters.
    static func clip(_ text: String, to bytes: Int) -> String {
        var count = 0
        var end = text.startIndex
        for index in text.indices {
            let size = text[index].utf8.count
            if count + size > bytes { break }
            count += size
            end = text.index(after: index)
        }
        return String(text[..<end])
    }
}
