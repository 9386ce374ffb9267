/// A small reader of the GRUB script subset our menus use, to prove hostile titles stay
/// inside their quotes: it splits a `menuentry` line into words with GRUB's quoting rules.
enum GrubScript {
    /// The words of one line: double-quoted parts with `\` escaping `\ " $` and newline,
    /// single-quoted parts literal, unquoted `;`, `{`, `}` as separate words.
    /// Returns nil when a quote is left open or a variable expansion (`$`) is unquoted or
    /// unescaped inside double quotes.
    static func words(_ line: String) -> [String]? {
        var words: [String] = []
        var current = ""
        var inWord = false
        var chars = Array(line)[...]
        while let c = chars.popFirst() {
            switch c {
            case " ", "\t":
                if inWord { words.append(current); current = ""; inWord = false }
            case ";", "{", "}":
                if inWord { words.append(current); current = ""; inWord = false }
                words.append(String(c))
            case "$":
                return nil
            case "'":
                inWord = true
                guard let end = chars.firstIndex(of: "'") else { return nil }
                current += String(chars[..<end])
                chars = chars[(end + 1)...]
            case "\"":
                inWord = true
                var closed = false
                while let d = chars.popFirst() {
                    if d == "\"" { closed = true; break }
                    if d == "$" { return nil }
                    if d == "\\" {
                        guard let e = chars.popFirst() else { return nil }
                        if "\\\"$\n".contains(e) { current.append(e) } else { current += "\\\(e)" }
                    } else {
                        current.append(d)
                    }
                }
                if !closed { return nil }
            case "\\":
                inWord = true
                if let e = chars.popFirst() { current.append(e) }
            default:
                inWord = true
                current.append(c)
            }
        }
        if inWord { words.append(current) }
        return words
    }
}
