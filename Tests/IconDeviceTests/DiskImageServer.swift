import Foundation
import IconServer
import IconTestSupport
import Logging

/// Runs the real `ImageServer` (mutual TLS) on 127.0.0.1 for the disk tests, serving the
/// fetch environment's `server/` tree, so its `server/demo` directory is at
/// `https://127.0.0.1:<port>/image/demo/`.
enum DiskImageServer {
    static let imageType = "demo"

    static func with<T: Sendable>(
        _ env: FetchEnvironment, _ body: @Sendable (_ port: Int) async throws -> T
    ) async throws -> T {
        let chain = env.temp.join("server-chain.pem")
        let pem = try [env.pki.server.certPath, env.pki.intermediate.certPath]
            .map { try String(contentsOfFile: $0, encoding: .utf8) }.joined(separator: "\n")
        try pem.write(toFile: chain, atomically: true, encoding: .utf8)
        var configuration = ImageServerConfiguration(
            host: "127.0.0.1", port: 0, imagePath: env.temp.join("server"), imageTypes: [imageType],
            certificateChainPath: chain, privateKeyPath: env.pki.server.keyPath, clientCAPath: env.pki.root.certPath,
            watchManifests: false, logger: Logger(label: "disk-test-server") { _ in SwiftLogNoOpLogHandler() })
        // A handshake on a busy machine can take longer than the default 10 s; no test here is about it.
        configuration.connectionLimits.tlsHandshakeTimeout = TestTiming.duration(.seconds(60))
        configuration.connectionLimits.requestHeaderTimeout = TestTiming.duration(.seconds(60))
        let ports = Loopback.Ports()
        let server = try ImageServer(configuration: configuration) { ports.report($0) }
        return try await ports.serve({ try await server.run() }, body)
    }
}
