import UnixSignals

/// Runs an operation that Ctrl-C (SIGINT) or SIGTERM cancels instead of killing the process,
/// so the operation's cleanup (unmounts, work directories, partial downloads) runs before the
/// command exits. An operation that fails after a signal throws `CancellationError`, whatever
/// its own error (a cancelled download may surface as a network error).
enum CancelOnInterrupt {
    static func run<T: Sendable>(_ operation: @escaping @Sendable () async throws -> T) async throws -> T {
        // Trapped before the operation starts: a signal from then on cancels it.
        let signals = await UnixSignalsSequence(trapping: .sigint, .sigterm)
        let task = Task { try await operation() }
        let watcher = Task {
            for await _ in signals { task.cancel() }
        }
        defer { watcher.cancel() }
        do {
            return try await task.value
        } catch {
            if task.isCancelled { throw CancellationError() }
            throw error
        }
    }
}
