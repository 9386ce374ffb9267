import Foundation
import Hummingbird
import HummingbirdTLS
import IconServer
import IconTestSupport
import Logging
import NIOCore
import NIOSSL

/// Loopback HTTPS servers with mutual TLS for fetcher tests.
enum TestImageHost {
    /// Runs IconServer's `ImageServer` on 127.0.0.1 with an ephemeral port for the duration
    /// of `body`, serving `root` as image type `demo` (`root` must be named `demo`), clients
    /// checked against the test root CA.
    /// With `truncating`, runs ``withTruncating(root:pki:_:)`` instead.
    static func with<T: Sendable>(
        root: String, pki: TestPKI, truncating: Bool = false, _ body: @Sendable (_ port: Int) async throws -> T
    ) async throws -> T {
        if truncating {
            return try await withTruncating(root: root, pki: pki, body)
        }
        let chainPath = "\(pki.directory)/server-chain.pem"
        let chain = try String(contentsOfFile: pki.server.certPath, encoding: .utf8)
            + "\n" + String(contentsOfFile: pki.intermediate.certPath, encoding: .utf8)
        try chain.write(toFile: chainPath, atomically: true, encoding: .utf8)
        var configuration = ImageServerConfiguration(
            host: "127.0.0.1", port: 0, imagePath: (root as NSString).deletingLastPathComponent,
            imageTypes: [(root as NSString).lastPathComponent], certificateChainPath: chainPath,
            privateKeyPath: pki.server.keyPath, clientCAPath: pki.root.certPath, watchManifests: false,
            logger: Logger(label: "test-image-server") { _ in SwiftLogNoOpLogHandler() })
        // A handshake on a busy machine can take longer than the default 10 s; no test here is about it.
        configuration.connectionLimits.tlsHandshakeTimeout = TestTiming.duration(.seconds(60))
        configuration.connectionLimits.requestHeaderTimeout = TestTiming.duration(.seconds(60))
        let ports = Loopback.Ports()
        let server = try ImageServer(configuration: configuration) { ports.report($0) }
        return try await ports.serve({ try await server.run() }, body)
    }

    /// How the hostile routes of ``withTruncating(root:pki:_:)`` send an ISO (other files
    /// are served as they are): at `/<rawValue>/demo/<file>`.
    enum Misbehaviour: String, CaseIterable, Sendable {
        /// Announces the ISO's full length but closes the connection half-way (a truncated
        /// download).
        case short
        /// The ISO, then zeros for ever, without a Content-Length.
        case endless
        /// Announces and sends the ISO followed by as many zeros again.
        case overlong
        /// Announces the ISO's length and sends one byte every 50 ms.
        case trickle
    }

    /// A small Hummingbird server that ImageServer cannot stand in for: it serves the files
    /// of `root` at `/image/demo/<file>` and misbehaves as ``Misbehaviour`` says at its routes
    /// (`/short/demo/<file>`, a truncated download, and the others).
    static func withTruncating<T: Sendable>(
        root: String, pki: TestPKI, _ body: @Sendable (_ port: Int) async throws -> T
    ) async throws -> T {
        let router = Router()
        router.get("/image/demo/:file") { _, context in
            try serve(root: root, context: context, misbehaviour: nil)
        }
        for misbehaviour in Misbehaviour.allCases {
            router.get("/\(misbehaviour.rawValue)/demo/:file") { _, context in
                try serve(root: root, context: context, misbehaviour: misbehaviour)
            }
        }
        var tls = TLSConfiguration.makeServerConfiguration(
            certificateChain: try NIOSSLCertificate.fromPEMFile(pki.server.certPath).map { .certificate($0) }
                + NIOSSLCertificate.fromPEMFile(pki.intermediate.certPath).map { .certificate($0) },
            privateKey: .privateKey(try NIOSSLPrivateKey(file: pki.server.keyPath, format: .pem)))
        tls.certificateVerification = .noHostnameVerification
        tls.trustRoots = .certificates(try NIOSSLCertificate.fromPEMFile(pki.root.certPath))
        let ports = Loopback.Ports()
        var logger = Logger(label: "test-image-host")
        logger.logLevel = .critical
        let app = Application(
            router: router,
            server: try .tls(.http1(), tlsConfiguration: tls),
            configuration: .init(address: .hostname("127.0.0.1", port: 0)),
            onServerRunning: { ports.report($0.localAddress?.port ?? 0) },
            logger: logger)
        return try await ports.serve({ try await app.run() }, body)
    }

    private static func serve(root: String, context: some RequestContext, misbehaviour: Misbehaviour?) throws -> Response {
        let name = try context.parameters.require("file")
        guard !name.hasPrefix("."), !name.contains("/"),
            let data = FileManager.default.contents(atPath: "\(root)/\(name)")
        else {
            return Response(status: .notFound)
        }
        let buffer = ByteBuffer(bytes: data)
        guard let misbehaviour, name.hasSuffix(".iso") else {
            return Response(status: .ok, body: .init(byteBuffer: buffer))
        }
        let zeros = ByteBuffer(repeating: 0, count: 64 * 1024)
        switch misbehaviour {
        case .short:
            let half = buffer.getSlice(at: 0, length: buffer.readableBytes / 2)!
            return Response(
                status: .ok,
                headers: [.contentLength: String(buffer.readableBytes)],
                body: .init(contentLength: buffer.readableBytes) { writer in
                    try await writer.write(half)
                    throw CancellationError()
                })
        case .endless:
            return Response(
                status: .ok,
                body: .init { writer in
                    try await writer.write(buffer)
                    // Until the client hangs up: a write then throws.
                    while true { try await writer.write(zeros) }
                })
        case .overlong:
            var body = buffer
            body.writeImmutableBuffer(ByteBuffer(repeating: 0, count: data.count))
            return Response(status: .ok, body: .init(byteBuffer: body))
        case .trickle:
            return Response(
                status: .ok,
                headers: [.contentLength: String(buffer.readableBytes)],
                body: .init(contentLength: buffer.readableBytes) { writer in
                    for offset in 0..<buffer.readableBytes {
                        try await writer.write(buffer.getSlice(at: offset, length: 1)!)
                        try await Task.sleep(for: .milliseconds(50))
                    }
                })
        }
    }
}
