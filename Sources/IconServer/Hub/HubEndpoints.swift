import Foundation
import Hummingbird
import HummingbirdWebSocket
import IconCore
import IconProtocol
import Logging
import NIOCore
import NIOHTTP1
import NIOWebSocket
import X509

/// `/ws/slave` (machines) and `/ws/master` (operators): WebSocket routes feeding the `FleetHub`.
struct HubEndpoints: Sendable {
    let hub: FleetHub
    let operatorPolicy: OperatorPolicy
    let logger: Logger
    let maxMessageSize: Int
    let maxMessagesPerSecond: Int
    /// `--allow-any-report-hostname`.
    let anyReportHostname: Bool

    init(hub: FleetHub, operatorPolicy: OperatorPolicy, configuration: ImageServerConfiguration) {
        self.hub = hub
        self.operatorPolicy = operatorPolicy
        logger = configuration.logger
        maxMessageSize = configuration.maxHubMessageSize
        maxMessagesPerSecond = configuration.maxHubMessagesPerSecond
        anyReportHostname = !configuration.restrictReportHostnames
    }

    /// The hub's paths and the subprotocol each needs.
    static let subprotocols = [FleetPaths.machineSocket: HubSubprotocol.slave, FleetPaths.operatorSocket: HubSubprotocol.master]

    /// The WebSocket routes, on the router Hummingbird asks whether to upgrade.
    func register(on router: Router<ServerRequestContext>) {
        router.ws(RouterPath(FleetPaths.machineSocket)) { request, context in
            await shouldUpgrade(request, context: context)
        } onUpgrade: { inbound, outbound, context in
            await serve(role: .slave, inbound: inbound, outbound: outbound, context: context.requestContext)
        }
        router.ws(RouterPath(FleetPaths.operatorSocket)) { request, context in
            await shouldUpgrade(request, context: context)
        } onUpgrade: { inbound, outbound, context in
            await serve(role: .master, inbound: inbound, outbound: outbound, context: context.requestContext)
        }
    }

    /// The HTTP routes of the same paths: a plain GET, and an upgrade the ``HubUpgradeGate``
    /// turned away, get 403 or 400 with the reason in one line.
    func registerRefusals(on router: Router<ServerRequestContext>) {
        for path in Self.subprotocols.keys.sorted() {
            router.get(RouterPath(path)) { request, context -> Response in
                // The gate removed `Upgrade`; the WebSocket key shows the client asked for one.
                let asked = request.headers[.secWebSocketKey] != nil
                let chain = await context.peerChain()
                let refused = await refusal(
                    path: path, isUpgrade: asked, subprotocols: Self.offered(request), origin: request.headers[.origin],
                    host: request.head.authority, chain: chain)
                let error = refused ?? IconError(.invalidArgument, "\(path): the WebSocket upgrade failed; connect again")
                let subject = chain.first.map { String(describing: $0.subject) } ?? "-"
                logger.warning("hub: refused \(path): \(error.message)", metadata: ["client": "\(subject)"])
                var response = RequestLogMiddleware.text(RequestLogMiddleware.status(for: error.code), error.message)
                // After an upgrade request the connection cannot carry another one (see HubUpgradeGate).
                if asked { response.headers[.connection] = "close" }
                return response
            }
        }
    }

    /// Why the hub will not open `path` for this client; `nil` when it will.
    ///
    /// `/ws/master` needs a request from no other site (``OriginPolicy``) and an operator
    /// certificate (403); both paths need a WebSocket upgrade that offers their subprotocol (400).
    func refusal(
        path: String, isUpgrade: Bool, subprotocols: [String], origin: String?, host: String?, chain: [Certificate]
    ) async -> IconError? {
        guard let subprotocol = Self.subprotocols[path] else { return nil }
        if path == FleetPaths.operatorSocket {
            if let reason = operatorPolicy.origins.refusal(path: path, origin: origin, host: host) {
                return IconError(.permission, reason)
            }
            if !(await operatorPolicy.admits(chain)) {
                return IconError(.permission, OperatorPolicy.refusal(path: path, certificate: chain.first))
            }
        }
        guard isUpgrade else {
            return IconError(
                .invalidArgument, "\(path) is a WebSocket endpoint: connect with a WebSocket upgrade offering subprotocol \(subprotocol)")
        }
        guard subprotocols.contains(subprotocol) else {
            return IconError(.invalidArgument, "\(path) needs the WebSocket subprotocol \(subprotocol) (Sec-WebSocket-Protocol)")
        }
        return nil
    }

    /// What ``HubUpgradeGate`` asks before letting an upgrade (with these request headers)
    /// reach the WebSocket router.
    func refuses(path: String, headers: HTTPHeaders, channel: any Channel) async -> Bool {
        let chain = await ServerRequestContext.peerChain(of: channel)
        let subprotocols = headers["sec-websocket-protocol"]
            .flatMap { $0.split(separator: ",") }
            .map { $0.trimmingCharacters(in: .whitespaces) }
        return await refusal(
            path: path, isUpgrade: true, subprotocols: subprotocols, origin: headers.first(name: "origin"),
            host: headers.first(name: "host"), chain: chain) != nil
    }

    /// Upgrades only when ``refusal(path:isUpgrade:subprotocols:origin:host:chain:)`` finds
    /// nothing, echoing the subprotocol.
    func shouldUpgrade(_ request: Request, context: ServerRequestContext) async -> RouterShouldUpgrade {
        let path = request.uri.path
        let refused = await refusal(
            path: path, isUpgrade: true, subprotocols: Self.offered(request), origin: request.headers[.origin],
            host: request.head.authority, chain: await context.peerChain())
        guard refused == nil, let subprotocol = Self.subprotocols[path] else { return .dontUpgrade }
        return .upgrade([.secWebSocketProtocol: subprotocol])
    }

    /// The subprotocols a request offers.
    static func offered(_ request: Request) -> [String] {
        request.headers[values: .secWebSocketProtocol]
            .flatMap { $0.split(separator: ",") }
            .map { $0.trimmingCharacters(in: .whitespaces) }
    }

    func serve(
        role: FleetHub.Role, inbound: WebSocketInboundStream, outbound: WebSocketOutboundWriter,
        context: ServerRequestContext
    ) async {
        let chain = await context.peerChain()
        let certificate = chain.first
        let client = certificate.map { String(describing: $0.subject) } ?? "-"
        var permission = ReportPermission.none(reason: CloseReason.operatorMayNotReport)
        if role == .slave {
            let isOperator = await operatorPolicy.admits(chain)
            permission = ReportPermission.forMachine(certificate, isOperator: isOperator, anyHostname: anyReportHostname)
        }
        // Bounded so a client that does not read cannot make the server hold unbounded memory.
        let (frames, continuation) = AsyncStream.makeStream(of: String.self, bufferingPolicy: .bufferingOldest(1024))
        // Apart from the frames, so a full outbox cannot hold up the close.
        let (closes, closeContinuation) = AsyncStream.makeStream(of: String.self, bufferingPolicy: .bufferingOldest(1))
        let outbox = FleetHub.Outbox(
            send: { text in
                if case .enqueued = continuation.yield(text) { return true }
                return false
            },
            close: { reason in closeContinuation.yield(reason) })
        let id = await hub.connect(role: role, client: client, permission: permission, outbox: outbox)
        await withTaskGroup(of: Void.self) { group in
            group.addTask {
                for await text in frames {
                    do { try await outbound.writeTextMessage(text) } catch { break }
                }
            }
            group.addTask {
                for await reason in closes {
                    try? await outbound.close(.policyViolation, reason: reason)
                    break
                }
            }
            do {
                try await readLoop(inbound: inbound, outbound: outbound, id: id, client: client)
            } catch {
                logger.warning("hub: closing connection: \(error)", metadata: ["client": "\(client)"])
            }
            await hub.disconnect(id)
            continuation.finish()
            closeContinuation.finish()
        }
    }

    func readLoop(
        inbound: WebSocketInboundStream, outbound: WebSocketOutboundWriter, id: FleetHub.ConnectionID, client: String
    ) async throws {
        var window = ContinuousClock.now
        var inWindow = 0
        for try await message in inbound.messages(maxSize: maxMessageSize) {
            let now = ContinuousClock.now
            if now - window > .seconds(1) {
                window = now
                inWindow = 0
            }
            inWindow += 1
            if inWindow > maxMessagesPerSecond {
                logger.warning("hub: closing connection: more than \(maxMessagesPerSecond) messages a second", metadata: ["client": "\(client)"])
                try await outbound.close(.policyViolation, reason: "too many messages")
                return
            }
            guard case .text(let text) = message else {
                logger.warning("hub: dropped message: binary frame", metadata: ["client": "\(client)"])
                continue
            }
            let decoded: HubMessage
            do {
                decoded = try HubMessage.decode(text)
            } catch {
                logger.warning("hub: dropped message: \(error)", metadata: ["client": "\(client)"])
                continue
            }
            if case .refused(let reason) = await hub.receive(decoded, from: id, frameBytes: text.utf8.count) {
                try await outbound.close(.policyViolation, reason: reason)
                return
            }
        }
    }
}
