/// The reasons the hub closes a machine's connection with (WebSocket close code 1008), and the
/// limit a close frame puts on them.
///
/// Agents log the reason as an error, so it says what was refused and what the certificate
/// allows: `report as 'vm' refused: the certificate names robot-17`.
enum CloseReason {
    /// A close frame's payload is at most 125 bytes, two of them the code.
    static let maximumBytes = 123

    static let reportWithoutHostname = "report without a hostname refused: set the machine's hostname"

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
