import Foundation
import Hummingbird
import HummingbirdCore
import HummingbirdWebSocket
import IconCore
import IconPKI
import IconTLS
import Logging
import NIOCore
import NIOSSL
public import ServiceLifecycle
import SwiftASN1
import UnixSignals

/// The `icon server` HTTPS listener over mutual TLS: images, the fleet hub's WebSockets, the
/// dashboard, `/static` and `/exec` routes, and the inventory's JSON API.
///
/// Every client must present a certificate that chains to the configured client CA; TLS 1.2 is
/// the minimum. All PEM files are loaded in `init`, so a bad file fails before anything listens.
public struct ImageServer: Service {
    public let configuration: ImageServerConfiguration
    /// The hub behind `/ws/slave` and `/ws/master`.
    public let hub: FleetHub
    /// The device inventory and audit log, when `stateDirectory` is set.
    public let inventory: FleetInventory?
    /// The server's TLS context (certificate, key, TLS 1.2+, client certificates required).
    let sslContext: NIOSSLContext
    /// What client chains are checked against in the handshake.
    let trust: ClientTrust
    let operatorPolicy: OperatorPolicy
    let onListening: @Sendable (Int) async -> Void

    /// Prepares a server; nothing listens until `run()`.
    ///
    /// - Parameters:
    ///   - configuration: what to serve and the TLS material.
    ///   - onListening: called with the bound port once the listener is open (useful with port 0).
    /// - Throws: `IconError(.invalidArgument)` for bad settings, `.notFound` for a missing file or
    ///   image directory or static directory, `.badKey` for a PEM file that cannot be parsed,
    ///   `.invalidArgument` for a CA file without a self-signed root, `.io` for a state directory
    ///   whose inventory cannot be opened.
    public init(
        configuration: ImageServerConfiguration,
        onListening: @escaping @Sendable (Int) async -> Void = { _ in }
    ) throws {
        try configuration.validate()
        try configuration.connectionLimits.validate()
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: configuration.imagePath, isDirectory: &isDirectory),
            isDirectory.boolValue
        else {
            throw IconError(.notFound, "--image-path \(configuration.imagePath) is not a directory")
        }
        for (name, directory) in configuration.staticPaths {
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory), isDirectory.boolValue else {
                throw IconError(.notFound, "--static-path \(name)=\(directory): not a directory")
            }
        }
        for (name, path) in configuration.execHandlers where !FileManager.default.isExecutableFile(atPath: path) {
            throw IconError(.notFound, "--exec-handler \(name)=\(path): not an executable file")
        }
        self.configuration = configuration
        let trust = try ClientTrust.load(configuration, logger: configuration.logger)
        self.sslContext = try Self.loadTLS(configuration, trust: trust)
        self.trust = trust
        self.operatorPolicy = OperatorPolicy(trust: trust, origins: try OriginPolicy(allowedOrigins: configuration.allowedOrigins))
        self.onListening = onListening
        let inventory = try configuration.stateDirectory.map {
            try FleetInventory(stateDirectory: $0, logger: configuration.logger)
        }
        self.inventory = inventory
        self.hub = FleetHub(
            imageTypes: configuration.imageTypes, logger: configuration.logger,
            limits: .init(hostnamesPerCertificate: configuration.maxHostnamesPerCertificate),
            claims: try inventory?.hostnamesByClient() ?? [:],
            record: { event in inventory?.record(event) })
    }

    /// Runs until cancelled or asked to shut down gracefully by its `ServiceGroup`.
    public func run() async throws {
        try await ListenFailure.naming(host: configuration.host, port: configuration.port) {
            try await makeApplication().run()
        }
    }

    /// Runs in its own service group until SIGINT or SIGTERM, then shuts down gracefully.
    public func runUntilSignalled() async throws {
        try await ListenFailure.naming(host: configuration.host, port: configuration.port) {
            try await makeApplication().runService(gracefulShutdownSignals: [.sigterm, .sigint])
        }
    }

    func makeApplication() throws -> some ApplicationProtocol {
        let router = Router(context: ServerRequestContext.self)
        router.add(middleware: RequestLogMiddleware(logger: configuration.logger))
        ImageRoutes(configuration: configuration).register(on: router)
        if !configuration.staticPaths.isEmpty {
            ImageRoutes(staticPaths: configuration.staticPaths, chunkSize: configuration.chunkSize).register(on: router)
        }
        DashboardRoutes().register(on: router)
        ExecRoutes(
            handlers: configuration.execHandlers, timeout: configuration.execTimeout, operatorPolicy: operatorPolicy,
            logger: configuration.logger
        ).register(on: router)
        InventoryAPIRoutes(inventory: inventory, operatorPolicy: operatorPolicy).register(on: router)
        let hubEndpoints = HubEndpoints(hub: hub, operatorPolicy: operatorPolicy, configuration: configuration)
        hubEndpoints.registerRefusals(on: router)
        let webSocketRouter = Router(context: ServerRequestContext.self)
        hubEndpoints.register(on: webSocketRouter)
        let onListening = self.onListening
        let logger = configuration.logger
        var services: [any Service] = []
        if let inventory { services.append(inventory) }
        services.append(MemoryTrimmer())
        if configuration.watchManifests {
            services.append(
                ManifestWatcher(imagePath: configuration.imagePath, imageTypes: configuration.imageTypes, logger: logger) {
                    [hub] type in
                    await hub.announceNewManifest(imageType: type)
                })
        }
        let webSocketResponder = webSocketRouter.buildResponder()
        let limits = configuration.connectionLimits
        let channelConfiguration = Self.channelConfiguration(limits, maxFrameSize: configuration.maxHubMessageSize)
        let counter = ConnectionCounter(limits: limits, logger: logger)
        let (sslContext, trust) = (self.sslContext, self.trust)
        let server = HTTPServerBuilder { responder in
            MutualTLSChannel(
                base: HTTP1WebSocketUpgradeChannel(
                    responder: responder, webSocketResponder: webSocketResponder, configuration: channelConfiguration),
                sslContext: sslContext, trust: trust, gatePaths: Set(HubEndpoints.subprotocols.keys),
                refuses: { path, headers, channel in
                    await hubEndpoints.refuses(path: path, headers: headers, channel: channel)
                },
                limits: limits, counter: counter,
                logger: logger)
        }
        return Application(
            router: router,
            server: server,
            configuration: .init(
                address: .hostname(configuration.host, port: configuration.port), backlog: Self.listenBacklog),
            services: services,
            onServerRunning: { channel in
                let port = channel.localAddress?.port ?? 0
                logger.debug("listening", metadata: ["port": "\(port)"])
                await onListening(port)
            },
            logger: logger
        )
    }

    /// Pending connections the kernel queues before `accept` (it caps this at `net.core.somaxconn`).
    static let listenBacklog = 4096

    /// HTTP/1 with WebSocket upgrades: the request-head limits of `limits` for the decoder, and
    /// the server's WebSocket pings every `limits.webSocketPingInterval` (a peer that misses a
    /// pong is closed by the WebSocket layer; ``ConnectionDeadlines`` closes one that sends nothing).
    static func channelConfiguration(
        _ limits: ConnectionLimits, maxFrameSize: Int
    ) -> HTTP1WebSocketUpgradeChannel.Configuration {
        HTTP1WebSocketUpgradeChannel.Configuration(
            http1: HTTP1Channel.Configuration(
                httpDecoderConfiguration: .init(
                    maxHeaderFieldSize: limits.maxHeaderBytes, maxHeaderListSize: limits.maxHeaderBytes,
                    maxHeaderFieldCount: limits.maxHeaderCount)),
            ws: .init(maxFrameSize: maxFrameSize, autoPing: .enabled(timePeriod: limits.webSocketPingInterval)))
    }

    /// Loads the chain and key into the context of a server that requires client certificates.
    ///
    /// The trust roots also hold the intermediates ``ClientTrust`` knows; the handshake's check
    /// itself is ``MutualTLSChannel``'s, against ``ClientTrust``.
    static func loadTLS(_ configuration: ImageServerConfiguration, trust: ClientTrust) throws -> NIOSSLContext {
        let clientCAs = try (trust.roots + trust.intermediates).map {
            try NIOSSLCertificate(bytes: $0.serializeAsPEM().derBytes, format: .der)
        }
        let files = ServerTLSFiles(
            certificateChainPath: configuration.certificateChainPath, privateKeyPath: configuration.privateKeyPath)
        var tls = try files.configuration(trustingClientsOf: clientCAs)
        // Require a client certificate (MutualTLSChannel checks its chain); a client has no host name to check.
        tls.certificateVerification = .noHostnameVerification
        do {
            return try NIOSSLContext(configuration: tls)
        } catch {
            throw IconError(.badKey, "the TLS settings of --cert \(configuration.certificateChainPath) cannot be used", cause: error)
        }
    }
}
