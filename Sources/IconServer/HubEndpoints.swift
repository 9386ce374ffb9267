import Hummingbird
import HummingbirdWebSocket
import IconProtocol
import Logging
import X509

/// `/ws/slave` (machines) and `/ws/master` (operators): WebSocket routes feeding the `FleetHub`.
struct HubEndpoints: Sendable {
    let hub: FleetHub
    let operatorPolicy: OperatorPolicy
    let logger: Logger
    let maxMessageSize: Int
    let maxMessagesPerSecond: Int
    let restrictReportHostnames: Bool

    init(hub: FleetHub, operatorPolicy: OperatorPolicy, configuration: ImageServerConfiguration) {
        self.hub = hub
        self.operatorPolicy = operatorPolicy
        logger = configuration.logger
        maxMessageSize = configuration.maxHubMessageSize
        maxMessagesPerSecond = configuration.maxHubMessagesPerSecond
        restrictReportHostnames = configuration.restrictReportHostnames
    }

    func register(on router: Router<ServerRequestContext>) {
        router.ws("/ws/slave") { request, _ in
            Self.negotiate(request, subprotocol: HubSubprotocol.slave)
        } onUpgrade: { inbound, outbound, context in
            await serve(role: .slave, inbound: inbound, outbound: outbound, context: context.requestContext)
        }
        router.ws("/ws/master") { [logger, operatorPolicy] request, context in
            // The original admits any client certificate here; we require an operator.
            guard let certificate = await context.peerCertificate(), await operatorPolicy.admits(certificate) else {
                let subject = await context.peerSubject()
                logger.warning("hub: refused /ws/master: no operator certificate", metadata: ["client": "\(subject)"])
                return .dontUpgrade
            }
            return Self.negotiate(request, subprotocol: HubSubprotocol.master)
        } onUpgrade: { inbound, outbound, context in
            await serve(role: .master, inbound: inbound, outbound: outbound, context: context.requestContext)
        }
    }

    /// Upgrades only when the client offers `subprotocol`, and echoes it back.
    static func negotiate(_ request: Request, subprotocol: String) -> RouterShouldUpgrade {
        let offered = request.headers[values: .secWebSocketProtocol]
            .flatMap { $0.split(separator: ",") }
            .map { $0.trimmingCharacters(in: .whitespaces) }
        guard offered.contains(subprotocol) else { return .dontUpgrade }
        return .upgrade([.secWebSocketProtocol: subprotocol])
    }

    func serve(
        role: FleetHub.Role, inbound: WebSocketInboundStream, outbound: WebSocketOutboundWriter,
        context: ServerRequestContext
    ) async {
        let certificate = await context.peerCertificate()
        let client = certificate.map { String(describing: $0.subject) } ?? "-"
        let allowed = role == .slave && restrictReportHostnames ? Self.hostnames(of: certificate) : nil
        // Bounded so a client that does not read cannot make the server hold unbounded memory.
        let (frames, continuation) = AsyncStream.makeStream(of: String.self, bufferingPolicy: .bufferingOldest(1024))
        let outbox = FleetHub.Outbox { text in
            if case .enqueued = continuation.yield(text) { return true }
            return false
        }
        let id = await hub.connect(role: role, client: client, allowedHostnames: allowed, outbox: outbox)
        await withTaskGroup(of: Void.self) { group in
            group.addTask {
                for await text in frames {
                    do { try await outbound.writeTextMessage(text) } catch { break }
                }
            }
            do {
                try await readLoop(inbound: inbound, outbound: outbound, id: id, client: client)
            } catch {
                logger.warning("hub: closing connection: \(error)", metadata: ["client": "\(client)"])
            }
            await hub.disconnect(id)
            continuation.finish()
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
            do {
                let decoded = try HubMessage.decode(text)
                await hub.receive(decoded, from: id)
            } catch {
                logger.warning("hub: dropped message: \(error)", metadata: ["client": "\(client)"])
            }
        }
    }

    /// DNS names in the certificate's subject alternative names; `nil` when it names none (any hostname allowed).
    static func hostnames(of certificate: Certificate?) -> Set<String>? {
        guard let names = try? certificate?.extensions.subjectAlternativeNames else { return nil }
        let dns = names.compactMap { name -> String? in
            if case .dnsName(let value) = name { return value }
            return nil
        }
        return dns.isEmpty ? nil : Set(dns)
    }
}
