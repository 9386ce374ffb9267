import Foundation

/// One run of an external program, described as a value so builders can be unit-tested
/// without running anything.
public struct ToolInvocation: Hashable, Sendable, CustomStringConvertible {
    /// The program: an absolute path, or a name looked up in `PATH`.
    public var executable: String
    /// The arguments, without the program name.
    public var arguments: [String]
    /// Variables added to (or replacing ones in) the inherited environment.
    public var environment: [String: String]
    /// When true the program gets `environment` alone, nothing inherited from this process.
    public var replacesEnvironment: Bool
    /// The directory to run in; `nil` keeps the caller's.
    public var workingDirectory: String?

    public init(
        _ executable: String, _ arguments: [String] = [],
        environment: [String: String] = [:], replacesEnvironment: Bool = false, workingDirectory: String? = nil
    ) {
        self.executable = executable
        self.arguments = arguments
        self.environment = environment
        self.replacesEnvironment = replacesEnvironment
        self.workingDirectory = workingDirectory
    }

    /// The command line as a shell would show it, quoted where needed; for messages and logs.
    public var commandLine: String {
        ([executable] + arguments).map(ShellQuote.quote).joined(separator: " ")
    }

    public var description: String {
        let env = environment.keys.sorted().map { "\($0)=\(ShellQuote.quote(environment[$0]!))" }
        return (env + [commandLine]).joined(separator: " ")
    }
}

/// What a finished program left: its exit code and its (possibly truncated) output.
public struct ToolOutput: Hashable, Sendable {
    /// The exit code; for a program killed by a signal, 128 plus the signal number, as shells do.
    public var exitCode: Int32
    public var standardOutput: String
    public var standardError: String

    public init(exitCode: Int32, standardOutput: String = "", standardError: String = "") {
        self.exitCode = exitCode
        self.standardOutput = standardOutput
        self.standardError = standardError
    }

    /// Whether the program exited with code 0.
    public var succeeded: Bool { exitCode == 0 }

    /// Returns `self` when the program succeeded.
    ///
    /// - Throws: `IconError.Code.toolFailed` naming the command, its exit code and the last
    ///   lines of its standard error (or output, when standard error is empty).
    @discardableResult
    public func check(_ invocation: ToolInvocation) throws -> ToolOutput {
        guard exitCode != 0 else { return self }
        let text = standardError.isEmpty ? standardOutput : standardError
        let tail = text.split(separator: "\n", omittingEmptySubsequences: true).suffix(8)
            .joined(separator: "\n")
        var message = "\(invocation.commandLine) exited with code \(exitCode)"
        if !tail.isEmpty { message += ":\n\(tail)" }
        throw IconError(.toolFailed, message)
    }
}

/// Quoting for POSIX shells, used to show commands and to write shell snippets safely.
public enum ShellQuote {
    /// `text` as one shell word: unchanged when it is plainly safe, else in single quotes.
    public static func quote(_ text: String) -> String {
        let safe = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_./=:,+@%")
        if !text.isEmpty, text.allSatisfy({ safe.contains($0) }) { return text }
        return "'" + text.replacingOccurrences(of: "'", with: "'\\''") + "'"
    }
}
