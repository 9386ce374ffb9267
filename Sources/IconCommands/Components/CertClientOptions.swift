import ArgumentParser
import IconMachineTools

/// The flags of `icon certclient` that say what to request, declared once: `icon certclient`
/// parses them, `icon module certclient` takes the same flags, checks them with ``check()`` and
/// writes them into its unit with ``arguments(placing:)``.
struct CertClientOptions: ParsableArguments, Equatable {
    @Option(help: ArgumentHelp("URL of the certificate server.", valueName: "url"))
    var server: String
    @Option(help: ArgumentHelp("Name part that tells this key and certificate apart from others on the machine.", valueName: "tag"))
    var tag: String
    @Option(help: ArgumentHelp("Subject to request; SYSTEMID is replaced by the hostname.", valueName: "subject"))
    var subject: String
    @Option(help: ArgumentHelp("Also write Diffie-Hellman parameters of this size (2048, 3072 or 4096; RFC 7919 groups).", valueName: "bits"))
    var dhBits: Int?

    init() {}

    /// Refuses a tag, subject or DH size `icon certclient` would refuse.
    ///
    /// - Throws: `.invalidArgument` naming the flag.
    func check() throws {
        try CertificateClient.check(tag: tag, subject: subject, dhBits: dhBits)
    }

    /// These options as `icon certclient` arguments, with `files` (the TLS file flags) after
    /// `--server`. Parsing the result (with `files`) gives these options back.
    func arguments(placing files: [String] = []) -> [String] {
        var words = ["--server", server] + files + ["--tag", tag, "--subject", subject]
        if let dhBits { words += ["--dh-bits", String(dhBits)] }
        return words
    }

    static func == (lhs: CertClientOptions, rhs: CertClientOptions) -> Bool {
        lhs.server == rhs.server && lhs.tag == rhs.tag && lhs.subject == rhs.subject && lhs.dhBits == rhs.dhBits
    }
}
