import Foundation

/// An NSS certificate database (the store Chromium and Firefox use) driven by the
/// `certutil` and `pk12util` tools of libnss3-tools, to prove that browsers import a file.
public struct NSSDatabase: Sendable {
    /// The outcome of one tool run.
    public struct Result: Sendable {
        public let status: Int32
        public let output: String
    }

    /// The database directory.
    public let directory: String

    /// Whether `certutil` and `pk12util` are installed.
    public static var isAvailable: Bool {
        ["certutil", "pk12util"].allSatisfy { tool in
            ["/usr/bin", "/usr/local/bin", "/bin"].contains { FileManager.default.isExecutableFile(atPath: "\($0)/\(tool)") }
        }
    }

    /// Creates an empty database without a password in `directory` (created if missing).
    ///
    /// - Throws: `NSSToolFailure` when `certutil -N` fails.
    public init(directory: String) throws {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        self.directory = directory
        try mustRun("certutil", ["-N", "-d", "sql:\(directory)", "--empty-password"])
    }

    /// `pk12util -i <file> -w <passwordFile>`: imports a PKCS#12 file as a browser would.
    @discardableResult
    public func importPKCS12(_ file: String, passwordFile: String) throws -> Result {
        try run("pk12util", ["-i", file, "-d", "sql:\(directory)", "-w", passwordFile])
    }

    /// `certutil -L`: the certificates in the database, one line each with nickname and trust.
    public func listCertificates() throws -> String {
        try mustRun("certutil", ["-L", "-d", "sql:\(directory)"])
    }

    /// `certutil -K`: the private keys in the database, one line each with type and nickname.
    public func listKeys() throws -> Result {
        try run("certutil", ["-K", "-d", "sql:\(directory)"])
    }

    /// Runs `tool arguments`, returning its status and combined output.
    public func run(_ tool: String, _ arguments: [String]) throws -> Result {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = [tool] + arguments
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        // An empty database has no password; make sure nothing waits on a terminal.
        process.standardInput = FileHandle.nullDevice
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return Result(status: process.terminationStatus, output: String(decoding: data, as: UTF8.self))
    }

    @discardableResult
    func mustRun(_ tool: String, _ arguments: [String]) throws -> String {
        let result = try run(tool, arguments)
        guard result.status == 0 else {
            throw NSSToolFailure(command: ([tool] + arguments).joined(separator: " "), output: result.output)
        }
        return result.output
    }
}

/// A test tool exited non-zero.
public struct NSSToolFailure: Error, CustomStringConvertible {
    public let command: String
    public let output: String
    public var description: String { "\(command) failed: \(output)" }
}
