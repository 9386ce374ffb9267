import Foundation

/// Runs the `openssl` command line tool in tests, to prove interoperability with it.
public enum OpenSSLTool {
    /// The outcome of one `openssl` run.
    public struct Result: Sendable {
        public let status: Int32
        public let output: String
    }

    /// Runs `openssl <arguments>` in `directory`, returning its status and combined output.
    @discardableResult
    public static func run(_ arguments: [String], in directory: String? = nil) throws -> Result {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["openssl"] + arguments
        if let directory { process.currentDirectoryURL = URL(fileURLWithPath: directory) }
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return Result(status: process.terminationStatus, output: String(decoding: data, as: UTF8.self))
    }

    /// Runs `openssl <arguments>` and throws when it exits non-zero.
    @discardableResult
    public static func mustRun(_ arguments: [String], in directory: String? = nil) throws -> String {
        let result = try run(arguments, in: directory)
        guard result.status == 0 else {
            throw OpenSSLFailure(arguments: arguments, output: result.output)
        }
        return result.output
    }
}

/// `openssl` exited non-zero.
public struct OpenSSLFailure: Error, CustomStringConvertible {
    public let arguments: [String]
    public let output: String
    public var description: String { "openssl \(arguments.joined(separator: " ")) failed: \(output)" }
}
