import Foundation
import IconCore
import IconProvision

#if canImport(Glibc)
import Glibc
#endif

/// The "erase /dev/sdx (8 GiB)? [y/N]" question of the disk commands.
enum EraseConfirmation {
    /// A confirm closure: yes with `--yes`; else ask on the terminal; without a terminal
    /// refuse, because nobody could have agreed to erasing `device`.
    static func make(yes: Bool, device: String) -> @Sendable (String) throws -> Bool {
        { question in
            if yes { return true }
            guard isatty(STDIN_FILENO) == 1 else {
                throw IconError(.notConfirmed, "not erasing \(device): standard input is not a terminal; pass --yes to confirm")
            }
            FileHandle.standardError.write(Data(question.utf8))
            guard let answer = readLine(strippingNewline: true) else { return false }
            return ["y", "yes"].contains(answer.trimmingCharacters(in: .whitespaces).lowercased())
        }
    }

    /// Prints a step line (`format BOOT: 0.42 s`) on standard output.
    static func printStep(_ line: String) {
        FileHandle.standardOutput.write(Data((line + "\n").utf8))
    }
}
