import ArgumentParser
import Testing

@testable import IconCommands
import Foundation

/// What every subcommand's `--help` must look like: placeholders that say what kind of value a
/// flag takes (`<file>`, `<dir>`, `<n>`, `<url>`, ...), not the flag's own name repeated, and
/// examples that ArgumentParser prints as written, never wrapped in the middle of a command.
@Suite struct HelpTextTests {
    /// Every leaf command with its words (`["pki", "issue"]`).
    static func leaves(_ command: any ParsableCommand.Type = IconCommand.self, path: [String] = []) -> [(words: [String], type: any ParsableCommand.Type)] {
        let subcommands = command.configuration.subcommands
        if subcommands.isEmpty { return [(path, command)] }
        return subcommands.flatMap { sub in leaves(sub, path: path + [sub._commandName]) }
    }

    /// One-word flags whose name is already the kind of value they take (`--name <name>`).
    static let valueKinds: Set<String> = [
        "name", "subject", "tag", "url", "release", "arch", "flavor", "package", "role", "purpose", "usage",
        "host", "device", "firmware", "groups", "timestamp", "policy", "prefix", "type",
    ]

    /// Every command, groups included, with its words.
    static func allCommands(_ command: any ParsableCommand.Type = IconCommand.self, path: [String] = []) -> [(words: [String], type: any ParsableCommand.Type)] {
        [(path, command)] + command.configuration.subcommands.flatMap { allCommands($0, path: path + [$0._commandName]) }
    }

    @Test("no flag's placeholder just repeats the flag's name, unless that name is a kind of value")
    func placeholdersSayWhatKindOfValue() {
        for (words, type) in Self.leaves() {
            let help = IconCommand.helpMessage(for: type, columns: 400)
            for line in help.split(separator: "\n") {
                guard let match = line.firstMatch(of: /^\s+(?:-\w, )?--([a-z0-9-]+) <([^>]+)>/) else { continue }
                let (flag, placeholder) = (String(match.1), String(match.2))
                #expect(placeholder != flag || (!flag.contains("-") && Self.valueKinds.contains(flag)), "icon \(words.joined(separator: " ")) --\(flag) <\(placeholder)>: name the kind of value (<file>, <dir>, <n>, <url>, ...)")
            }
        }
    }

    @Test("example lines are at most 76 characters, so they are never wrapped mid-command")
    func examplesAreNotWrapped() {
        for (words, type) in Self.allCommands() {
            let discussion = type.configuration.discussion
            guard let start = discussion.range(of: "Example") else { continue }
            for line in discussion[start.lowerBound...].split(separator: "\n") where line.hasPrefix(" ") {
                #expect(line.count <= 76, "icon \(words.joined(separator: " ")): example line of \(line.count) characters: \(line)")
            }
        }
    }
}
