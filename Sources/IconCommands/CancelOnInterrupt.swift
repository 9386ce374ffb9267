import Dispatch
import Foundation

/// Runs an operation that Ctrl-C (SIGINT) or SIGTERM cancels instead of killing the process,
/// so the operation's cleanup (unmounts, work directories, partial downloads) runs before the
/// command exits. An operation that fails after a signal throws `CancellationError`, whatever
/// its own error (a cancelled download may surface as a network error).
enum CancelOnInterrupt {
    static func run<T: Sendable>(_ operation: @escaping @Sendable () async throws -> T) async throws -> T {
        let task = Task { try await operation() }
        let sources = [SIGINT, SIGTERM].map { number in
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler { task.cancel() }
            source.resume()
            return source
        }
        defer {
            for source in sources { source.cancel() }
            signal(SIGINT, SIG_DFL)
            signal(SIGTERM, SIG_DFL)
        }
        do {
            return try await task.value
        } catch {
            if task.isCancelled { throw CancellationError() }
            throw error
        }
    }
}
