import Foundation
public import Logging
import Subprocess
import SystemPackage

/// Runs programs for real with swift-subprocess.
///
/// Both output streams are drained concurrently (so a chatty tool never blocks on a full
/// pipe), kept up to `outputLimit` bytes each (the tail of standard error is what failure
/// messages need, so past the limit the oldest bytes are dropped), and optionally logged
/// line by line as they arrive, which is how long builds show progress.
public struct SubprocessToolRunner: ToolRunner {
    /// How much of each stream is kept in `ToolOutput`, in bytes.
    public var outputLimit: Int
    /// When set, each output line is logged at this level as it arrives.
    public var streamLevel: Logger.Level?

    public init(outputLimit: Int = 4 << 20, streamLevel: Logger.Level? = nil) {
        self.outputLimit = outputLimit
        self.streamLevel = streamLevel
    }

    public func run(_ invocation: ToolInvocation, logger: Logger) async throws -> ToolOutput {
        let (executable, environment) = try Self.prepare(invocation)
        logger.debug("running \(invocation)")
        let limit = outputLimit
        let level = streamLevel
        let tool = (invocation.executable as NSString).lastPathComponent
        do {
            let result = try await Subprocess.run(
                executable,
                arguments: Arguments(invocation.arguments),
                environment: environment,
                workingDirectory: invocation.workingDirectory.map { FilePath($0) },
                input: .none,
                output: .sequence,
                error: .sequence
            ) { execution in
                async let out = Self.drain(
                    execution.standardOutput, limit: limit, level: level, logger: logger, label: "\(tool)")
                async let err = Self.drain(
                    execution.standardError, limit: limit, level: level, logger: logger, label: "\(tool)!")
                return try await (out, err)
            }
            // A cancelled run's program was killed by the teardown: report the cancellation,
            // not a tool failure.
            try Task.checkCancellation()
            let (out, err) = result.closureResult
            return ToolOutput(exitCode: Self.exitCode(result.terminationStatus), standardOutput: out, standardError: err)
        } catch let error as IconError {
            throw error
        } catch is CancellationError {
            throw CancellationError()
        } catch {
            throw IconError(.toolFailed, "cannot run \(invocation.commandLine)", cause: error)
        }
    }

    /// The exit code of a finished program; 128 plus the signal number for one killed by a
    /// signal, as shells report it.
    static func exitCode(_ status: TerminationStatus) -> Int32 {
        switch status {
        case .exited(let value): Int32(value)
        case .signaled(let signal): 128 + Int32(signal)
        }
    }

    /// The program and the environment `invocation` describes.
    ///
    /// - Throws: `IconError.Code.invalidArgument` for a variable name the system cannot hold.
    static func prepare(_ invocation: ToolInvocation) throws -> (Executable, Environment) {
        let executable: Executable =
            invocation.executable.contains("/")
            ? .path(FilePath(invocation.executable)) : .name(invocation.executable)
        var overrides: [Environment.Key: String?] = [:]
        for (name, value) in invocation.environment {
            guard let key = Environment.Key(rawValue: name) else {
                throw IconError(.invalidArgument, "bad environment variable name \(name) for \(invocation.executable)")
            }
            overrides[key] = value
        }
        let environment: Environment =
            invocation.replacesEnvironment
            ? .custom(overrides.compactMapValues { $0 }) : Environment.inherit.updating(overrides)
        return (executable, environment)
    }

    /// Reads a stream to its end, keeping the last `limit` bytes and logging whole lines.
    static func drain(
        _ stream: SubprocessOutputSequence, limit: Int, level: Logger.Level?, logger: Logger, label: String
    ) async throws -> String {
        var kept: [UInt8] = []
        var pending: [UInt8] = []
        for try await buffer in stream {
            let bytes = buffer.withUnsafeBytes { Array($0) }
            kept.append(contentsOf: bytes)
            if kept.count > 2 * limit { kept.removeFirst(kept.count - limit) }
            guard let level else { continue }
            pending.append(contentsOf: bytes)
            // Progress bars end lines with \r; both separators count as a line end.
            while let end = pending.firstIndex(where: { $0 == 10 || $0 == 13 }) {
                let line = String(decoding: pending[..<end], as: UTF8.self)
                pending.removeFirst(end + 1)
                if !line.isEmpty { logger.log(level: level, "\(label): \(line)") }
            }
        }
        if let level, !pending.isEmpty {
            logger.log(level: level, "\(label): \(String(decoding: pending, as: UTF8.self))")
        }
        if kept.count > limit { kept.removeFirst(kept.count - limit) }
        return String(decoding: kept, as: UTF8.self)
    }
}

extension SubprocessToolRunner {
    /// Runs `invocation` on this process's terminal (standard input, output and error shared),
    /// for interactive shells; returns its exit code.
    ///
    /// - Throws: `IconError.Code.toolFailed` when the program cannot be started.
    public static func runInteractive(_ invocation: ToolInvocation) async throws -> Int32 {
        do {
            let result = try await Subprocess.run(
                invocation.executable.contains("/") ? .path(FilePath(invocation.executable)) : .name(invocation.executable),
                arguments: Arguments(invocation.arguments),
                workingDirectory: invocation.workingDirectory.map { FilePath($0) },
                input: .fileDescriptor(.standardInput, closeAfterSpawningProcess: false),
                output: .fileDescriptor(.standardOutput, closeAfterSpawningProcess: false),
                error: .fileDescriptor(.standardError, closeAfterSpawningProcess: false))
            return exitCode(result.terminationStatus)
        } catch {
            throw IconError(.toolFailed, "cannot run \(invocation.commandLine)", cause: error)
        }
    }
}
