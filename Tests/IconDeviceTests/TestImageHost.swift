import Foundation
import Hummingbird
import HummingbirdTLS
import IconTestSupport
import Logging
import NIOCore
import NIOSSL

/// A loopback HTTPS server with mutual TLS for fetcher tests, serving the files of one
/// directory at `/image/demo/<file>`, and at `/short/demo/<file>` the same file announced
/// at full length but cut off half-way (a truncated download).
enum TestImageHost {
    /// Runs the server on 127.0.0.1 with an ephemeral port for the duration of `body`.
    static func with<T: Sendable>(
        root: String, pki: TestPKI, requireClientCert: Bool = true,
        _ body: @Sendable (_ port: Int) async throws -> T
    ) async throws -> T {
        let router = Router()
        router.get("/image/demo/:file") { _, context in
            try serve(root: root, context: context, cut: false)
        }
        router.get("/short/demo/:file") { _, context in
            try serve(root: root, context: context, cut: true)
        }
        var tls = TLSConfiguration.makeServerConfiguration(
            certificateChain: try NIOSSLCertificate.fromPEMFile(pki.server.certPath).map { .certificate($0) }
                + NIOSSLCertificate.fromPEMFile(pki.intermediate.certPath).map { .certificate($0) },
            privateKey: .privateKey(try NIOSSLPrivateKey(file: pki.server.keyPath, format: .pem)))
        if requireClientCert {
            tls.certificateVerification = .noHostnameVerification
            tls.trustRoots = .certificates(try NIOSSLCertificate.fromPEMFile(pki.root.certPath))
            tls.additionalTrustRoots = [.certificates(try NIOSSLCertificate.fromPEMFile(pki.intermediate.certPath))]
        }
        let (ports, portContinuation) = AsyncStream<Int>.makeStream()
        var logger = Logger(label: "test-image-host")
        logger.logLevel = .critical
        let app = Application(
            router: router,
            server: try .tls(.http1(), tlsConfiguration: tls),
            configuration: .init(address: .hostname("127.0.0.1", port: 0)),
            onServerRunning: { channel in portContinuation.yield(channel.localAddress?.port ?? 0) },
            logger: logger)
        return try await withThrowingTaskGroup(of: T?.self) { group in
            group.addTask {
                try await app.run()
                return nil
            }
            var iterator = ports.makeAsyncIterator()
            guard let port = await iterator.next() else { throw CancellationError() }
            defer { group.cancelAll() }
            return try await body(port)
        }
    }

    private static func serve(root: String, context: some RequestContext, cut: Bool) throws -> Response {
        let name = try context.parameters.require("file")
        guard !name.hasPrefix("."), !name.contains("/"),
            let data = FileManager.default.contents(atPath: "\(root)/\(name)")
        else {
            return Response(status: .notFound)
        }
        let buffer = ByteBuffer(bytes: data)
        guard cut else {
            return Response(status: .ok, body: .init(byteBuffer: buffer))
        }
        let half = buffer.getSlice(at: 0, length: buffer.readableBytes / 2)!
        return Response(
            status: .ok,
            headers: [.contentLength: String(buffer.readableBytes)],
            body: .init(contentLength: buffer.readableBytes) { writer in
                try await writer.write(half)
                throw CancellationError()
            })
    }
}
