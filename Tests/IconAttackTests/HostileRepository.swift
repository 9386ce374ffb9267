import Foundation
import Hummingbird
import HummingbirdTLS
import IconTestSupport
import Logging
import NIOCore
import NIOSSL
import Synchronization

/// A repository under an attacker's control: an HTTPS server on 127.0.0.1 with a certificate
/// the machine trusts (a compromised mirror, or a stolen server key), so TLS protects nothing
/// and only the manifest's signatures and hashes stand between the machine and what it sends.
/// Each file of `/image/demo/` answers as the test last said.
final class HostileRepository: Sendable {
    /// How the server answers a GET of one file.
    enum Answer: Sendable {
        /// These bytes, with their length.
        case bytes(Data)
        /// `Content-Length: announced`, then `data`; when that is shorter, the connection is
        /// closed after it (a truncated download).
        case announcing(Int, Data)
        /// These bytes one at a time, a pause of `every` before each: slow retrieval.
        case trickle(Data, every: Duration)
        /// These bytes, then zeros until the client hangs up, with no length.
        case endless(prefix: Data)
        /// Takes the request and never answers.
        case silent
    }

    private let answers = Mutex<[String: Answer]>([:])
    private let counts = Mutex<[String: Int]>([:])
    /// Set when the test is over, so a handler that holds a request lets it go.
    private let stopped = Atomic<Bool>(false)

    /// Sets how `file` (e.g. `manifest.json`, `200.iso`) answers from now on.
    func serve(_ file: String, _ answer: Answer) {
        answers.withLock { $0[file] = answer }
    }

    /// Sets `file` to answer with `data`.
    func serve(_ file: String, _ data: Data) {
        serve(file, .bytes(data))
    }

    /// How many times `file` was asked for.
    func requests(_ file: String) -> Int {
        counts.withLock { $0[file] ?? 0 }
    }

    /// Runs the server for the length of `body`, with `pki`'s server certificate.
    static func with<T: Sendable>(
        pki: TestPKI, _ body: @Sendable (HostileRepository, _ port: Int) async throws -> T
    ) async throws -> T {
        let repository = HostileRepository()
        let router = Router()
        router.get("/image/demo/:file") { _, context in
            let file = try context.parameters.require("file")
            repository.counts.withLock { $0[file, default: 0] += 1 }
            guard let answer = repository.answers.withLock({ $0[file] }) else {
                return Response(status: .notFound)
            }
            if case .silent = answer {
                while !repository.stopped.load(ordering: .relaxed) { try await Task.sleep(for: .milliseconds(50)) }
                return Response(status: .serviceUnavailable)
            }
            return repository.response(answer)
        }
        let tls = TLSConfiguration.makeServerConfiguration(
            certificateChain: try NIOSSLCertificate.fromPEMFile(pki.server.certPath).map { .certificate($0) }
                + NIOSSLCertificate.fromPEMFile(pki.intermediate.certPath).map { .certificate($0) },
            privateKey: .privateKey(try NIOSSLPrivateKey(file: pki.server.keyPath, format: .pem)))
        let ports = Loopback.Ports()
        var logger = Logger(label: "hostile-repository")
        logger.logLevel = .critical
        let app = Application(
            router: router,
            server: try .tls(.http1(), tlsConfiguration: tls),
            configuration: .init(address: .hostname("127.0.0.1", port: 0)),
            onServerRunning: { ports.report($0.localAddress?.port ?? 0) },
            logger: logger)
        return try await ports.serve({ try await app.run() }) { port in
            defer { repository.stopped.store(true, ordering: .relaxed) }
            return try await body(repository, port)
        }
    }

    private func response(_ answer: Answer) -> Response {
        switch answer {
        case .bytes(let data):
            return Response(status: .ok, body: .init(byteBuffer: ByteBuffer(bytes: data)))
        case .announcing(let length, let data):
            return Response(
                status: .ok, headers: [.contentLength: String(length)],
                body: .init(contentLength: length) { writer in
                    try await writer.write(ByteBuffer(bytes: data))
                    if data.count < length { throw CancellationError() }
                })
        case .trickle(let data, let pause):
            return Response(
                status: .ok, headers: [.contentLength: String(data.count)],
                body: .init(contentLength: data.count) { writer in
                    for byte in data where !self.stopped.load(ordering: .relaxed) {
                        try await Task.sleep(for: pause)
                        try await writer.write(ByteBuffer(bytes: [byte]))
                    }
                })
        case .endless(let prefix):
            return Response(
                status: .ok,
                body: .init { writer in
                    try await writer.write(ByteBuffer(bytes: prefix))
                    let zeros = ByteBuffer(repeating: 0, count: 64 * 1024)
                    // Until the client hangs up: a write then throws.
                    while !self.stopped.load(ordering: .relaxed) { try await writer.write(zeros) }
                })
        case .silent:
            return Response(status: .serviceUnavailable)
        }
    }
}
