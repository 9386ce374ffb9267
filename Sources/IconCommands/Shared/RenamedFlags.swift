/// Flags that were renamed so the same thing has the same name in every subcommand. The old
/// names keep working, hidden from `--help`: before parsing, each old name given to its
/// subcommand is rewritten to the new one (`--old VALUE` and `--old=VALUE` alike).
///
/// ArgumentParser shows every name of an option in its help, so an alias declared as a second
/// name would not be hidden, and a separate hidden option would make a required flag optional
/// in the usage line. Rewriting the words keeps one declaration per flag.
enum RenamedFlags {
    /// One rename: `old` became `new` in the subcommand `command` (its words, e.g. `["certserver"]`).
    struct Rename: Sendable, Equatable {
        let command: [String]
        let old: String
        let new: String
    }

    /// Every rename; the README's table of renamed flags lists the same.
    static let all: [Rename] = [
        // A server's trust for client certificates is --client-ca-cert; --ca-cert is always the
        // CA manifest signers chain to.
        Rename(command: ["server"], old: "--ca-cert", new: "--client-ca-cert"),
        // The TLS identity of a listener is --cert/--key (as in icon server); the CA that signs
        // machines' certificates is the issuer.
        Rename(command: ["certserver"], old: "--server-cert", new: "--cert"),
        Rename(command: ["certserver"], old: "--server-key", new: "--key"),
        Rename(command: ["certserver"], old: "--ca-cert", new: "--issuer-cert"),
        Rename(command: ["certserver"], old: "--ca-key", new: "--issuer-key"),
        Rename(command: ["certserver"], old: "--ca-chain", new: "--issuer-chain"),
        // A client's TLS trust and credentials are --https-ca-cert and --https-client-cert/-key.
        Rename(command: ["certclient"], old: "--ca-cert", new: "--https-ca-cert"),
        Rename(command: ["certclient"], old: "--client-cert", new: "--https-client-cert"),
        Rename(command: ["certclient"], old: "--client-key", new: "--https-client-key"),
        Rename(command: ["module", "certclient"], old: "--ca-cert", new: "--https-ca-cert"),
        Rename(command: ["module", "certclient"], old: "--client-cert", new: "--https-client-cert"),
        Rename(command: ["module", "certclient"], old: "--client-key", new: "--https-client-key"),
        // The directory holding one sub-directory per image type is --image-path (as in icon
        // server); --image-dir is always one image type's directory.
        Rename(command: ["build-image"], old: "--image-dir", new: "--image-path"),
    ]

    /// `arguments` (without the program name) with the old flag names of their subcommand
    /// replaced; words after `--` are left alone.
    static func rewrite(_ arguments: [String], renames: [Rename] = all) -> [String] {
        let path = Array(arguments.prefix { !$0.hasPrefix("-") })
        let applicable = renames.filter { path.starts(with: $0.command) && path.count == $0.command.count }
        guard !applicable.isEmpty else { return arguments }
        var result = Array(arguments[..<path.count])
        var rest = arguments[path.count...]
        while let word = rest.popFirst() {
            if word == "--" {
                result.append(word)
                result += rest
                break
            }
            result.append(rename(word, applicable))
        }
        return result
    }

    static func rename(_ word: String, _ renames: [Rename]) -> String {
        for rename in renames {
            if word == rename.old { return rename.new }
            if word.hasPrefix(rename.old + "=") { return rename.new + word.dropFirst(rename.old.count) }
        }
        return word
    }
}
