/// Runs a server on an ephemeral loopback port (port 0) for the length of a test.
///
/// ```swift
/// let ports = Loopback.Ports()
/// let app = Application(..., onServerRunning: { ports.report($0.localAddress?.port ?? 0) })
/// try await ports.serve({ try await app.run() }) { port in ... }
/// ```
public enum Loopback {
    /// Where a server reports the port it listens on.
    public struct Ports: Sendable {
        private let stream: AsyncStream<Int>
        private let continuation: AsyncStream<Int>.Continuation

        public init() {
            (stream, continuation) = AsyncStream.makeStream(of: Int.self)
        }

        /// Called by the server once it listens (Hummingbird's `onServerRunning`,
        /// `ImageServer`'s `onListening`).
        public func report(_ port: Int) {
            continuation.yield(port)
        }

        /// Runs `server` in a child task and `body` with the first port it reports, then
        /// cancels the server. When the server ends before it reports a port, its error is
        /// thrown here.
        public func serve<T: Sendable>(
            _ server: @escaping @Sendable () async throws -> Void, _ body: (_ port: Int) async throws -> T
        ) async throws -> T {
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { [continuation] in
                    defer { continuation.finish() }
                    try await server()
                }
                defer { group.cancelAll() }
                var iterator = stream.makeAsyncIterator()
                guard let port = await iterator.next() else {
                    // The server ended without listening: its error says why.
                    try await group.next()
                    throw CancellationError()
                }
                return try await body(port)
            }
        }
    }
}
