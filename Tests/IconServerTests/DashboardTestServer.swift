import Hummingbird
import HummingbirdTLS
import HummingbirdWebSocket
@testable import IconServer
import Logging
import ServiceLifecycle

/// The image server's routes and hub plus the dashboard files at `/`, for the browser test.
///
/// Throwaway: `ImageServer` does not serve the dashboard yet (another branch adds that route),
/// so this builds the same application from the server's own parts with the dashboard added.
/// The page must come from the same origin as `/ws/master` and `/image/...`.
enum DashboardTestServer {
    static func withServer<T: Sendable>(
        _ configuration: ImageServerConfiguration, _ body: @Sendable (Int, FleetHub) async throws -> T
    ) async throws -> T {
        let server = try ImageServer(configuration: configuration)
        let router = Router(context: ServerRequestContext.self)
        ImageRoutes(configuration: configuration).register(on: router)
        for path in ["/", "/index.html", "/dashboard.css", "/dashboard.js", "/label.html", "/code39.js"] {
            router.get(RouterPath(path)) { _, _ -> Response in
                guard let asset = DashboardAssets.asset(for: path) else { throw HTTPError(.notFound) }
                return Response(
                    status: .ok, headers: [.contentType: asset.contentType],
                    body: .init(byteBuffer: ByteBuffer(bytes: asset.body)))
            }
        }
        let webSocketRouter = Router(context: ServerRequestContext.self)
        HubEndpoints(hub: server.hub, operatorPolicy: server.operatorPolicy, configuration: configuration)
            .register(on: webSocketRouter)
        let (ports, continuation) = AsyncStream.makeStream(of: Int.self)
        let application = Application(
            router: router,
            server: try .tls(
                .http1WebSocketUpgrade(
                    webSocketRouter: webSocketRouter,
                    configuration: .init(ws: .init(maxFrameSize: configuration.maxHubMessageSize))),
                tlsConfiguration: server.tlsConfiguration),
            configuration: .init(address: .hostname(configuration.host, port: 0)),
            onServerRunning: { channel in
                continuation.yield(channel.localAddress?.port ?? 0)
                continuation.finish()
            },
            logger: Logger(label: "dashboard-test") { _ in SwiftLogNoOpLogHandler() })
        let group = ServiceGroup(
            configuration: .init(services: [application], logger: Logger(label: "quiet") { _ in SwiftLogNoOpLogHandler() }))
        return try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            defer { tasks.cancelAll() }
            var iterator = ports.makeAsyncIterator()
            guard let port = await iterator.next() else { throw CancellationError() }
            return try await body(port, server.hub)
        }
    }
}
