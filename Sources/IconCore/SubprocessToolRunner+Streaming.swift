import Foundation
public import Logging
import Subprocess
import SystemPackage

#if canImport(Glibc)
import Glibc
#endif

/// A program started by ``SubprocessToolRunner/withRunning(_:terminationGrace:logger:_:)``,
/// valid only inside that call's body.
///
/// Its standard input is a pipe the body writes into (or finishes at once); its standard
/// output is read on demand, so a program that writes faster than the body reads waits on its
/// full pipe instead of filling memory.
public struct RunningTool: Sendable {
    /// The program's standard output, chunk by chunk until end of file. Single pass.
    public let output: Chunks
    let writer: StandardInputWriter
    let stop: @Sendable (Duration) async -> Void

    /// Writes `bytes` to the program's standard input; false when the program no longer reads it
    /// (it closed its input or exited).
    ///
    /// Subprocess reports a program it has already seen exit with a short count, often zero,
    /// instead of an error (EPIPE comes only when the exit is not yet noticed): anything short of
    /// the whole of `bytes` is a failed write.
    public func write(_ bytes: [UInt8]) async -> Bool {
        guard !bytes.isEmpty else { return true }
        do {
            return try await writer.write(bytes) == bytes.count
        } catch {
            return false
        }
    }

    /// Closes the program's standard input: it reads end of file.
    public func finishInput() async {
        try? await writer.finish()
    }

    /// Sends SIGTERM, and SIGKILL when the program is still running `grace` later; returns once
    /// it has exited.
    public func terminate(grace: Duration) async {
        await stop(grace)
    }

    /// Standard output as byte chunks.
    public struct Chunks: AsyncSequence, Sendable {
        public typealias Element = [UInt8]
        let base: SubprocessOutputSequence

        public func makeAsyncIterator() -> AsyncIterator {
            AsyncIterator(base: base.makeAsyncIterator())
        }

        public struct AsyncIterator: AsyncIteratorProtocol {
            var base: SubprocessOutputSequence.Iterator

            public mutating func next() async throws -> [UInt8]? {
                try await base.next().map { buffer in buffer.withUnsafeBytes { Array($0) } }
            }
        }
    }
}

/// How a program run with ``SubprocessToolRunner/withRunning(_:terminationGrace:logger:_:)`` ended.
public struct RunOutcome<Value: Sendable>: Sendable {
    /// What the body returned.
    public var value: Value
    /// The exit code; 128 plus the signal number for a program killed by a signal.
    public var exitCode: Int32
    /// The last 64 KiB of the program's standard error.
    public var standardError: String
}

extension SubprocessToolRunner {
    /// Starts `invocation` and runs `body` while it runs: the body streams the program's
    /// standard output and may write its standard input.
    ///
    /// Returns once both the body and the program are done. When the body throws or the task
    /// is cancelled, the program is sent SIGTERM, then SIGKILL after `terminationGrace`, and the
    /// error is rethrown. Standard error is kept (its last 64 KiB) for the outcome. The body
    /// must read ``RunningTool/output`` to its end or throw: a program whose output nobody reads
    /// stops on its full pipe.
    ///
    /// A write to a program that has closed its input fails (``RunningTool/write(_:)`` returns
    /// false) instead of raising SIGPIPE, which this call ignores process-wide.
    ///
    /// - Throws: `IconError.Code.toolFailed` when the program cannot be started; whatever
    ///   `body` throws; `CancellationError` when cancelled.
    public func withRunning<Value: Sendable>(
        _ invocation: ToolInvocation, terminationGrace: Duration = .seconds(2), logger: Logger,
        _ body: (RunningTool) async throws -> Value
    ) async throws -> RunOutcome<Value> {
        Self.ignoreBrokenPipes()
        let (executable, environment) = try Self.prepare(invocation)
        var options = PlatformOptions()
        options.teardownSequence = [.gracefulShutDown(allowedDurationToNextStep: terminationGrace)]
        logger.debug("starting \(invocation)")
        let tool = (invocation.executable as NSString).lastPathComponent
        let result: ExecutionResult<(Value, String), SequenceOutput, SequenceOutput>
        do {
            result = try await Subprocess.run(
                executable,
                arguments: Arguments(invocation.arguments),
                environment: environment,
                workingDirectory: invocation.workingDirectory.map { FilePath($0) },
                platformOptions: options,
                input: .inputWriter,
                output: .sequence,
                error: .sequence
            ) { execution in
                let running = RunningTool(
                    output: RunningTool.Chunks(base: execution.standardOutput),
                    writer: execution.standardInputWriter,
                    stop: { grace in
                        await execution.teardown(using: [.gracefulShutDown(allowedDurationToNextStep: grace)])
                    })
                async let errors = Self.drain(
                    execution.standardError, limit: 64 << 10, level: nil, logger: logger, label: "\(tool)!")
                let value = try await body(running)
                await running.finishInput()
                return (value, try await errors)
            }
        } catch let error as IconError {
            throw error
        } catch is CancellationError {
            throw CancellationError()
        } catch let error as SubprocessError {
            if Task.isCancelled { throw CancellationError() }
            throw IconError(.toolFailed, "cannot run \(invocation.commandLine)", cause: error)
        }
        // A cancelled run's program was stopped by the teardown and its output ended early:
        // report the cancellation, not that outcome.
        try Task.checkCancellation()
        let (value, standardError) = result.closureResult
        return RunOutcome(value: value, exitCode: Self.exitCode(result.terminationStatus), standardError: standardError)
    }

    /// A write into a pipe whose reader died must fail with EPIPE, not kill this process.
    private static func ignoreBrokenPipes() {
        _ = brokenPipesIgnored
    }

    private static let brokenPipesIgnored: Void = {
        #if canImport(Glibc)
        signal(SIGPIPE, SIG_IGN)
        #endif
    }()
}
