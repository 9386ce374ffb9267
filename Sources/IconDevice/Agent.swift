import Foundation
import HTTPTypes
import HummingbirdWSClient
import IconCore
import IconProtocol
import Logging
import NIOCore
import NIOSSL

/// The device agent: keeps a WebSocket to the server's `/ws/slave`, reports every few seconds,
/// follows `new_manifest` pushes for its image type and obeys `reboot` commands.
public actor Agent {
    public let configuration: AgentConfiguration
    public let facts: DeviceFacts
    let actions: AgentActions
    let logger: Logger
    /// The last outcome shown to operators in the `status` field.
    private(set) var status: String?
    private var backoff: Backoff

    public init(configuration: AgentConfiguration, facts: DeviceFacts, actions: AgentActions, logger: Logger) {
        self.configuration = configuration
        self.facts = facts
        self.actions = actions
        self.logger = logger
        self.backoff = configuration.backoff
    }

    /// Connects, and reconnects with backoff and jitter whenever the connection ends, until the
    /// task is cancelled.
    ///
    /// - Throws: `.invalidArgument` / `.badKey` for a configuration that can never connect.
    public func run() async throws {
        let (url, tlsName) = try configuration.endpoint()
        let tls = try makeTLSConfiguration()
        guard let bootGuard else {
            await connectLoop(url: url, tlsName: tlsName, tls: tls)
            return
        }
        checkRollback(bootGuard)
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await self.proveRunningImage(bootGuard) }
            group.addTask { await self.connectLoop(url: url, tlsName: tlsName, tls: tls) }
            await group.waitForAll()
        }
    }

    /// The boot guard, when boot safety is configured.
    var bootGuard: BootGuard? {
        configuration.bootGuard.map { BootGuard(configuration: $0, actions: actions, logger: logger) }
    }

    /// Start of boot safety: notices a fallback GRUB made and reports it in the status.
    func checkRollback(_ bootGuard: BootGuard) {
        do {
            if let rollback = try bootGuard.checkRollback() {
                status = "Rolled back from \(rollback.failed): \(rollback.reason)"
            }
        } catch {
            logger.error("boot safety: \(error)")
            status = "Boot safety check failed: \(error)"
        }
    }

    /// Marks the running image good when it proves itself (see ``BootGuard/prove()``).
    func proveRunningImage(_ bootGuard: BootGuard) async {
        do {
            let outcome = try await bootGuard.prove()
            // A rollback status stays visible until something newer happens.
            if case .alreadyGood = outcome, status != nil { return }
            status = outcome.status
        } catch is CancellationError {
        } catch {
            logger.error("boot safety: \(error)")
            status = "Boot safety failed: \(error)"
        }
    }

    func connectLoop(url: String, tlsName: String, tls: TLSConfiguration) async {
        while !Task.isCancelled {
            let started = ContinuousClock.now
            do {
                logger.info("connecting to \(url)")
                try await connectOnce(url: url, tlsName: tlsName, tls: tls)
                logger.info("connection to \(url) closed")
            } catch is CancellationError {
                break
            } catch {
                logger.warning("connection to \(url) failed: \(error)")
            }
            if ContinuousClock.now - started > .seconds(30) { backoff.reset() }
            let delay = backoff.next()
            logger.info("reconnecting in \(delay)")
            do { try await Task.sleep(for: delay) } catch { break }
        }
    }

    func makeTLSConfiguration() throws -> TLSConfiguration {
        try ClientTLSFiles(
            caCertPath: configuration.httpsCACert, clientCertPath: configuration.clientCert,
            clientKeyPath: configuration.clientKey
        ).configuration()
    }

    private func connectOnce(url: String, tlsName: String, tls: TLSConfiguration) async throws {
        var headers = HTTPFields()
        headers[.secWebSocketProtocol] = HubSubprotocol.slave
        let wsConfiguration = WebSocketClientConfiguration(
            maxFrameSize: 1 << 20, additionalHeaders: headers, sniHostname: tlsName)
        try await WebSocketClient.connect(
            url: url, configuration: wsConfiguration, tlsConfiguration: tls, logger: logger
        ) { inbound, outbound, _ in
            await self.connected()
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask {
                    while !Task.isCancelled {
                        try await outbound.write(.text(await self.reportText()))
                        try await Task.sleep(for: self.configuration.reportInterval)
                    }
                }
                for try await message in inbound.messages(maxSize: 1 << 20) {
                    guard case .text(let text) = message else { continue }
                    let parsed: HubMessage
                    do {
                        parsed = try HubMessage.decode(text)
                    } catch {
                        self.logger.warning("ignoring a frame from the server: \(error)")
                        continue
                    }
                    if await self.handle(parsed) {
                        try await outbound.write(.text(await self.reportText()))
                    }
                    if case .reboot = await self.pendingAction {
                        await self.clearPendingAction()
                        try await self.actions.reboot()
                    }
                }
                group.cancelAll()
            }
        }
    }

    private func connected() {
        logger.info("connected; reporting every \(configuration.reportInterval)")
    }

    enum PendingAction: Equatable { case none, reboot }
    private(set) var pendingAction = PendingAction.none
    private func clearPendingAction() { pendingAction = .none }

    /// The JSON text of a report now.
    func reportText() -> String {
        HubMessage.report(Report(data: facts.report(status: status))).jsonText()
    }

    /// Acts on one message from the server. Returns true when the status changed and a
    /// report should go out at once; sets `pendingAction` when the machine must reboot after it.
    func handle(_ message: HubMessage) async -> Bool {
        switch message {
        case .newManifest(let imageType):
            // A push, or the server's image_types greeting after each connect (which catches up
            // on pushes missed while the machine was off or cut off, and resumes a download a
            // power loss interrupted). Either way only a manifest newer than the last one
            // applied is acted on: a late push of the manifest an operator's "reboot into T"
            // already applied must not move `current` back to the rollout's choice.
            guard imageType == configuration.imageType else { return false }
            logger.info("new manifest for \(imageType): fetching")
            return await updateIfNewer()
        case .imageTypes(let types):
            guard types.contains(configuration.imageType) else { return false }
            logger.info("connected: checking for a newer manifest for \(configuration.imageType)")
            return await updateIfNewer()
        case .command(let command):
            guard command.data.command == "reboot" else {
                logger.warning("ignoring unknown command \(command.data.command)")
                return false
            }
            if let timestamp = command.data.timestamp {
                do {
                    _ = try await actions.update(timestamp)
                    status = "Rebooting into \(timestamp)..."
                    pendingAction = .reboot
                } catch {
                    status = "Cannot reboot into \(timestamp): \(error)"
                }
            } else {
                status = "Rebooting..."
                pendingAction = .reboot
            }
            logger.notice("\(status ?? "")")
            return true
        case .targets, .report:
            return false
        }
    }

    /// Fetches what the rollout rule chooses when the server's manifest is newer than the last
    /// one applied, and sets the status to the outcome; false (no report needed) when there
    /// was nothing new.
    private func updateIfNewer() async -> Bool {
        do {
            guard let outcome = try await actions.catchUp() else {
                logger.info("the manifest for \(configuration.imageType) is the one already applied")
                return false
            }
            status = outcome
        } catch {
            status = "Update failed: \(error)"
        }
        logger.info("\(status ?? "")")
        return true
    }
}
