public import Logging

/// The process seam: everything that runs an external program goes through this protocol,
/// so tests can record invocations instead of running tools.
public protocol ToolRunner: Sendable {
    /// Runs `invocation` to completion.
    ///
    /// A non-zero exit is a result, not a throw: callers decide with `ToolOutput.check`.
    /// - Throws: `IconError.Code.toolFailed` when the program cannot be started at all.
    func run(_ invocation: ToolInvocation, logger: Logger) async throws -> ToolOutput
}

extension ToolRunner {
    /// Runs `invocation` and throws unless it exits with code 0.
    ///
    /// - Throws: `IconError.Code.toolFailed` naming the command and its last error lines.
    @discardableResult
    public func checked(_ invocation: ToolInvocation, logger: Logger) async throws -> ToolOutput {
        try await run(invocation, logger: logger).check(invocation)
    }
}
