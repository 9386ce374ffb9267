import Foundation
import Hummingbird
import HummingbirdTLS
import HummingbirdWebSocket
import IconTestSupport
import Logging
import NIOCore
import NIOSSL
import NIOWebSocket
import Synchronization

/// A small mutual-TLS Hummingbird server on 127.0.0.1 standing in for the hub where the real
/// one cannot: it refuses the way a server does, with HTTP 403 and a reason on an upgrade,
/// or with a WebSocket close code and reason after one.
///
/// - With `webSocket`, `/ws/slave` upgrades, sends the server's `image_types` greeting, then
///   closes with `closeCode` and `closeReason` (when set) or stays open.
/// - Without, it is a plain HTTPS server, and every upgrade request to `/ws/slave` or
///   `/ws/master` is answered with `refusalStatus` and `refusalBody`, the way a hub refuses a
///   connection it will not take.
struct HubTestServer: Sendable {
    var closeCode: WebSocketErrorCode?
    var closeReason = ""
    var refusalStatus: HTTPResponse.Status = .forbidden
    var refusalBody = ""
    var webSocket = true
    /// The server certificate and key; the chain adds the test intermediate.
    var certificate: TestPKI.Identity

    /// Upgrades accepted on `/ws/slave` so far.
    let slaveConnections = Counter()

    /// What `/ws/slave` sends first, as the hub does.
    static let greeting = #"{"type":"image_types","data":{"image_types":["demo"]}}"#

    init(certificate: TestPKI.Identity) {
        self.certificate = certificate
    }

    /// Runs the server for the duration of `body`, which gets the port.
    func run<T: Sendable>(pki: TestPKI, _ body: @Sendable (_ port: Int) async throws -> T) async throws -> T {
        let webSocketRouter = Router(context: BasicWebSocketRequestContext.self)
        let (closeCode, closeReason, counter) = (closeCode, closeReason, slaveConnections)
        webSocketRouter.ws("/ws/slave") { _, _ in
            .upgrade([.secWebSocketProtocol: "iconograph-slave"])
        } onUpgrade: { _, outbound, _ in
            counter.increment()
            try await outbound.write(.text(Self.greeting))
            if let closeCode {
                try await outbound.close(closeCode, reason: closeReason)
            } else {
                try await Task.sleep(for: .seconds(3600))
            }
        }
        let router = Router(context: BasicWebSocketRequestContext.self)
        let (status, refusal) = (refusalStatus, refusalBody)
        for path in ["/ws/master", "/ws/slave"] {
            router.get(RouterPath(path)) { _, _ in
                Response(
                    status: status, headers: [.contentType: "text/plain; charset=utf-8"],
                    body: .init(byteBuffer: ByteBuffer(string: refusal)))
            }
        }
        var tls = TLSConfiguration.makeServerConfiguration(
            certificateChain: try NIOSSLCertificate.fromPEMFile(certificate.certPath).map { .certificate($0) }
                + NIOSSLCertificate.fromPEMFile(pki.intermediate.certPath).map { .certificate($0) },
            privateKey: .privateKey(try NIOSSLPrivateKey(file: certificate.keyPath, format: .pem)))
        tls.certificateVerification = .noHostnameVerification
        tls.trustRoots = .certificates(try NIOSSLCertificate.fromPEMFile(pki.root.certPath))
        let ports = Loopback.Ports()
        let app = Application(
            router: router,
            server: webSocket
                ? try .tls(.http1WebSocketUpgrade(webSocketRouter: webSocketRouter), tlsConfiguration: tls)
                : try .tls(.http1(), tlsConfiguration: tls),
            configuration: .init(address: .hostname("127.0.0.1", port: 0)),
            onServerRunning: { ports.report($0.localAddress?.port ?? 0) },
            logger: Logger(label: "hub-test-server") { _ in SwiftLogNoOpLogHandler() })
        return try await ports.serve({ try await app.run() }, body)
    }
}

/// A count shared between a server's handlers and the test.
final class Counter: Sendable {
    private let count = Mutex(0)
    var value: Int { count.withLock { $0 } }
    func increment() { count.withLock { $0 += 1 } }
}
