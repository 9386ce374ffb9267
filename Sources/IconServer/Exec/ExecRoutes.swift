import Foundation
import Hummingbird
import IconCore
import Logging
import NIOCore
import Synchronization

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
            let process = try start(path)
            return Response(
                status: .ok,
                headers: [.contentType: "text/plain; charset=utf-8", .cacheControl: "no-store"],
                body: ResponseBody { writer in
                    try await stream(process, path: path, to: &writer)
                })
        }
    }

    /// A started handler and its output, chunk by chunk until end of file.
    final class Running: Sendable {
        let process: Process
        let output: AsyncStream<Data>
        /// Chunks the reader may read ahead of the client; a slow client slows the handler
        /// (through its full pipe) instead of filling the server's memory.
        let credits = DispatchSemaphore(value: 0)
        let abandoned = Mutex(false)

        init(process: Process, output: AsyncStream<Data>) {
            self.process = process
            self.output = output
            // Signalled rather than given as the initial value: libdispatch traps when a semaphore
            // is freed holding less than its initial value, as this one may.
            for _ in 0..<ExecRoutes.readAhead { credits.signal() }
        }

        /// Lets the reader go on after a chunk was sent.
        func consumed() { credits.signal() }

        /// Stops the reader thread after the client went away.
        func abandon() {
            abandoned.withLock { $0 = true }
            credits.signal()
        }
    }

    /// How many chunks of output may wait for a slow client.
    static let readAhead = 8

    func start(_ path: String) throws -> Running {
        var fds: [Int32] = [-1, -1]
        guard pipe(&fds) == 0 else {
            throw IconError(.io, "--exec-handler \(path): no pipe for its output (errno \(errno))")
        }
        let (readEnd, writeEnd) = (fds[0], fds[1])
        // The child must not keep the read end; the write end is dup2'ed onto its stdout.
        _ = fcntl(readEnd, F_SETFD, FD_CLOEXEC)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: path)
        process.arguments = []
        process.environment = Self.environment
        process.currentDirectoryURL = URL(fileURLWithPath: "/")
        process.standardInput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        process.standardOutput = FileHandle(fileDescriptor: writeEnd, closeOnDealloc: false)
        do {
            try process.run()
        } catch {
            close(readEnd)
            close(writeEnd)
            throw IconError(.toolFailed, "--exec-handler \(path) could not be started", cause: error)
        }
        // Our copy of the write end must go, or the reader never sees end of file.
        close(writeEnd)
        let (output, continuation) = AsyncStream.makeStream(of: Data.self, bufferingPolicy: .unbounded)
        let running = Running(process: process, output: output)
        // Blocking reads on a thread of their own: the handler may be slow, the executors must not wait.
        let reader = Thread {
            var buffer = [UInt8](repeating: 0, count: 64 * 1024)
            while true {
                running.credits.wait()
                if running.abandoned.withLock({ $0 }) { break }
                let count = buffer.withUnsafeMutableBytes { read(readEnd, $0.baseAddress, $0.count) }
                if count < 0 && errno == EINTR { continue }
                if count <= 0 { break }
                continuation.yield(Data(buffer[0..<count]))
            }
            close(readEnd)
            continuation.finish()
        }
        reader.start()
        return running
    }

    func stream(_ running: Running, path: String, to writer: inout any ResponseBodyWriter) async throws {
        let process = running.process
        let watchdog = Task { [timeout, logger] in
            try await Task.sleep(for: timeout)
            guard process.isRunning else { return }
            logger.warning("exec: \(path) ran longer than \(timeout); terminating it")
            process.terminate()
            try await Task.sleep(for: .seconds(2))
            if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        }
        defer { watchdog.cancel() }
        do {
            for await chunk in running.output {
                try await writer.write(ByteBuffer(bytes: chunk))
                running.consumed()
            }
        } catch {
            // The client went away: the handler's output has nowhere to go.
            running.abandon()
            if process.isRunning { process.terminate() }
            throw error
        }
        try await writer.finish(nil)
        while process.isRunning { try? await Task.sleep(for: .milliseconds(10)) }
        if process.terminationStatus != 0 || process.terminationReason != .exit {
            logger.warning("exec: \(path) ended with status \(process.terminationStatus)")
        }
    }
}
