import IconCore

/// Quoting and naming rules for the systemd unit files modules write.
public enum SystemdUnit {
    /// One argument of an `ExecStart=` line, in double quotes with `\`, `"` escaped and `$`,
    /// `%` doubled, so systemd passes it through unchanged (no variable or specifier expansion).
    ///
    /// - Throws: `IconError.Code.invalidArgument` for control characters (a newline would end
    ///   the line and start a new directive).
    public static func quote(_ argument: String) throws -> String {
        try checkLine(argument)
        var out = "\""
        for character in argument {
            switch character {
            case "\\": out += "\\\\"
            case "\"": out += "\\\""
            case "$": out += "$$"
            case "%": out += "%%"
            default: out.append(character)
            }
        }
        return out + "\""
    }

    /// A whole `ExecStart=` command line, every word quoted.
    public static func commandLine(_ words: [String]) throws -> String {
        try words.map(quote).joined(separator: " ")
    }

    /// Refuses text with control characters before it goes into a unit, fstab or env file.
    public static func checkLine(_ text: String) throws {
        guard !text.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7f }) else {
            throw IconError(.invalidArgument, "value \(text.debugDescription) contains a control character")
        }
    }

    /// Refuses a unit name that is not a plain file name.
    public static func checkName(_ name: String) throws {
        guard !name.isEmpty, name != ".", name != "..",
            name.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "@-_.:\\".contains($0)) })
        else { throw IconError(.invalidArgument, "'\(name)' is not a systemd unit name") }
    }

    /// The unit that runs a command once at boot.
    ///
    /// - Parameters:
    ///   - description: the `Description=`.
    ///   - command: program and arguments, quoted here.
    ///   - preCommands: commands run before it (`ExecStartPre=`), quoted the same way.
    ///   - unitSection: extra `[Unit]` lines (ordering), written as given.
    public static func oneshot(
        description: String, command: [String], preCommands: [[String]] = [], unitSection: [String] = [],
        wantedBy: String = "multi-user.target"
    ) throws -> String {
        try checkLine(description)
        let pre = try preCommands.map { "ExecStartPre=\(try commandLine($0))\n" }.joined()
        return """
            # Written by icon module; rewritten on every run.
            [Unit]
            Description=\(description)
            \(unitSection.map { $0 + "\n" }.joined())
            [Service]
            Type=oneshot
            RemainAfterExit=yes
            \(pre)ExecStart=\(try commandLine(command))

            [Install]
            WantedBy=\(wantedBy)

            """
    }
}
