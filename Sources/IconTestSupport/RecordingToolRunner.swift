public import IconCore
public import Logging
import Synchronization

/// A fake `ToolRunner` that records every invocation and answers from a closure,
/// so pipeline tests can check which commands run, in which order, without running them.
public final class RecordingToolRunner: ToolRunner {
    private let recorded = Mutex<[ToolInvocation]>([])
    private let respond: @Sendable (ToolInvocation) throws -> ToolOutput

    /// - Parameter respond: the result for each invocation; by default every tool succeeds
    ///   silently. Throwing from it is like a program that cannot be started.
    public init(respond: @escaping @Sendable (ToolInvocation) throws -> ToolOutput = { _ in ToolOutput(exitCode: 0) }) {
        self.respond = respond
    }

    /// The invocations so far, in the order they ran.
    public var invocations: [ToolInvocation] {
        recorded.withLock { $0 }
    }

    /// The command lines so far (`ToolInvocation.commandLine`), handy for `#expect`.
    public var commandLines: [String] {
        invocations.map(\.commandLine)
    }

    public func run(_ invocation: ToolInvocation, logger: Logger) async throws -> ToolOutput {
        recorded.withLock { $0.append(invocation) }
        return try respond(invocation)
    }
}
