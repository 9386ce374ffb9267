import AsyncAlgorithms
import Foundation
import Hummingbird
import IconCore
import Logging
import NIOCore

/// `POST /exec/<name>` (operators only): runs the executable `--exec-handler name=path` named,
/// and streams its standard output as `text/plain`.
///
/// Only POST runs it: a link or an image on another site makes the browser send a GET, with
/// the operator's certificate; a cross-site POST carries an `Origin`, which ``OriginPolicy``
/// refuses. A GET gets 405 naming POST.
///
/// Nothing from the request reaches the process: no arguments, no shell, an empty standard
/// input, a fixed minimal environment. A handler that runs longer than the timeout is sent
/// SIGTERM, then SIGKILL two seconds later; one whose client goes away is terminated too.
struct ExecRoutes: Sendable {
    let handlers: [String: String]
    let timeout: Duration
    let operatorPolicy: OperatorPolicy
    let logger: Logger

    /// The environment handlers run with.
    static let environment = ["PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "LANG": "C.UTF-8"]

    func register(on router: Router<ServerRequestContext>) {
        router.get("/exec/:name") { request, _ in
            var response = RequestLogMiddleware.text(
                .methodNotAllowed, "\(request.uri.path) runs its handler only on POST (curl -X POST ...)")
            response.headers[.allow] = "POST"
            return response
        }
        router.post("/exec/:name") { request, context in
            try await operatorPolicy.requireOperator(request, context: context)
            let name = try context.parameters.require("name")
            guard let path = handlers[name] else {
                throw IconError(.notFound, "no --exec-handler named '\(name)'")
            }
            let session = try await start(path)
            return Response(
                status: .ok,
                headers: [.contentType: "text/plain; charset=utf-8", .cacheControl: "no-store"],
                body: ResponseBody { writer in
                    try await stream(session, to: &writer)
                })
        }
    }

    /// A started handler: its output, handed over chunk by chunk, and the task that runs it.
    struct Session: Sendable {
        /// Each send waits for the client to take the chunk before the handler's output is read
        /// on: a slow client slows the handler (through its full pipe) instead of filling memory.
        let output: AsyncChannel<[UInt8]>
        let task: Task<Void, Never>
    }

    /// Starts the handler at `path`; returns once it runs.
    ///
    /// - Throws: `IconError.Code.toolFailed` when it cannot be started.
    func start(_ path: String) async throws -> Session {
        let invocation = ToolInvocation(
            path, [], environment: Self.environment, replacesEnvironment: true, workingDirectory: "/")
        let output = AsyncChannel<[UInt8]>()
        let (started, startedContinuation) = AsyncStream.makeStream(of: (any Error)?.self)
        let task = Task { [timeout, logger] in
            defer {
                output.finish()
                startedContinuation.finish()
            }
            do {
                let outcome = try await SubprocessToolRunner().withRunning(invocation, logger: logger) { handler in
                    startedContinuation.yield(nil)
                    await handler.finishInput()
                    try await withThrowingTaskGroup(of: Void.self) { group in
                        group.addTask {
                            try await Task.sleep(for: timeout)
                            logger.warning("exec: \(path) ran longer than \(timeout); terminating it")
                            await handler.terminate(grace: .seconds(2))
                        }
                        for try await chunk in handler.output {
                            await output.send(chunk)
                            // The client went away: the handler's output has nowhere to go.
                            try Task.checkCancellation()
                        }
                        group.cancelAll()
                    }
                }
                if outcome.exitCode != 0 {
                    logger.warning("exec: \(path) ended with status \(outcome.exitCode)")
                }
            } catch is CancellationError {
                logger.info("exec: \(path) stopped: its client went away")
            } catch {
                logger.warning("exec: \(path): \(error)")
                startedContinuation.yield(error)
            }
        }
        for await failure in started {
            guard let failure else { break }
            throw IconError(.toolFailed, "--exec-handler \(path) could not be started", cause: failure)
        }
        return Session(output: output, task: task)
    }

    func stream(_ session: Session, to writer: inout any ResponseBodyWriter) async throws {
        do {
            for await chunk in session.output {
                try await writer.write(ByteBuffer(bytes: chunk))
            }
        } catch {
            session.task.cancel()
            await session.task.value
            throw error
        }
        try await writer.finish(nil)
        await session.task.value
    }
}
