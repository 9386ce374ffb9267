import Foundation

/// Writes one line to standard output (Swift 6 forbids touching `stdout` directly).
func printLine(_ line: String) {
    FileHandle.standardOutput.write(Data((line + "\n").utf8))
}

/// `text` with control characters shown as `?`, so a hostile volume id cannot drive the
/// terminal when printed.
func printable(_ text: String) -> String {
    String(String.UnicodeScalarView(text.unicodeScalars.map { $0.value < 0x20 || (0x7F...0x9F).contains($0.value) ? "?" : $0 }))
}
