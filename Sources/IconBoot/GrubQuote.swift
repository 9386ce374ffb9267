/// Quoting for GRUB's script language (grub.cfg).
public enum GrubQuote {
    private static let safe = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_./=:,+@%^~")

    /// `text` as one GRUB word that expands to exactly `text`: unchanged when plainly safe,
    /// else in single quotes (inside which GRUB expands nothing), with each `'` written as
    /// `'\''`. Newlines, which cannot be part of a menu entry or kernel argument, become spaces.
    public static func word(_ text: String) -> String {
        let flat = String(text.map { $0 == "\n" || $0 == "\r" ? " " : $0 })
        if !flat.isEmpty, flat.allSatisfy({ safe.contains($0) }) { return flat }
        var out = "'"
        for character in flat {
            out += character == "'" ? "'\\''" : String(character)
        }
        return out + "'"
    }

    /// Inside GRUB double quotes only `\`, `"` and `$` are special (`$` expands variables),
    /// so escaping them keeps the text one literal word; `;`, braces and backquotes are
    /// literal there. Newlines could still end the word, so control characters are removed
    /// before this.
    public static func insideDoubleQuotes(_ text: String) -> String {
        var out = ""
        for character in text {
            if character == "\\" || character == "\"" || character == "$" { out.append("\\") }
            out.append(character)
        }
        return out
    }
}
