/// String quoting exactly as Python's `json.dumps` does with its default `ensure_ascii=True`.
enum PythonJSON {
    /// `s` as a JSON string literal: `"` and `\` escaped, the short escapes Python uses
    /// (`\n \r \t \b \f`), other control characters and everything outside ASCII as
    /// lowercase `\uXXXX` (UTF-16 surrogate pairs above U+FFFF).
    static func quote(_ s: String) -> String {
        var out = "\""
        for unit in s.utf16 {
            switch unit {
            case 0x22: out += "\\\""
            case 0x5C: out += "\\\\"
            case 0x0A: out += "\\n"
            case 0x0D: out += "\\r"
            case 0x09: out += "\\t"
            case 0x08: out += "\\b"
            case 0x0C: out += "\\f"
            case 0x20...0x7E: out.unicodeScalars.append(Unicode.Scalar(UInt8(unit)))
            default: out += "\\u" + hex4(unit)
            }
        }
        return out + "\""
    }

    private static func hex4(_ value: UInt16) -> String {
        let digits = String(value, radix: 16)
        return String(repeating: "0", count: 4 - digits.count) + digits
    }
}
