import Foundation
import IconCore
import IconFleetClient
import IconProtocol
import IconTLS
public import Logging

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
    /// - Throws: `.invalidArgument` / `.notFound` / `.badKey` for a configuration that can never
    ///   connect (a bad `--server`, TLS files that are missing, do not parse or do not match),
    ///   checked once before the first connection.
    public func run() async throws {
        let endpoint = try configuration.endpoint()
        let files = configuration.tlsFiles
        try files.validate()
        warnAboutImageType()
        guard let bootGuard else {
            await connectLoop(endpoint: endpoint, files: files)
            return
        }
        checkRollback(bootGuard)
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await self.proveRunningImage(bootGuard) }
            group.addTask { await self.connectLoop(endpoint: endpoint, files: files) }
            await group.waitForAll()
        }
    }

    /// Reports carry the image type the agent follows; say once when the running image file
    /// names another.
    func warnAboutImageType() {
        if let running = facts.imageType, running != configuration.imageType {
            logger.warning(
                "\(facts.runningImageFile) names image type \(running), but --image-type is \(configuration.imageType): following and reporting \(configuration.imageType)")
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
            logger.error("boot safety: \(Self.oneLine(error))")
            status = "Boot safety check failed: \(Self.oneLine(error))"
        }
    }

    /// Marks the running image good when it proves itself (see ``BootGuard/prove()``).
    func proveRunningImage(_ bootGuard: BootGuard) async {
        do {
            let outcome = try await bootGuard.prove()
            // A rollback status stays visible until something newer happens.
            if case .alreadyGood = outcome, status != nil { return }
            if case .noRunningImage = outcome { logger.notice("\(outcome.status)") }
            status = outcome.status
        } catch is CancellationError {
        } catch {
            logger.error("boot safety: \(Self.oneLine(error))")
            status = "Boot safety failed: \(Self.oneLine(error))"
        }
    }

    func connectLoop(endpoint: HubEndpoint, files: ClientTLSFiles) async {
        while !Task.isCancelled {
            let started = ContinuousClock.now
            do {
                logger.info("connecting to \(endpoint.url)")
                let close = try await connectOnce(endpoint: endpoint, files: files)
                if let close, !close.isOrderly {
                    logger.error("\(endpoint.url) closed the connection: \(close.summary)")
                } else if let close {
                    logger.info("\(endpoint.url) closed the connection (\(close.summary))")
                } else {
                    logger.info("connection to \(endpoint.url) closed")
                }
            } catch is CancellationError {
                break
            } catch let error as IconError where error.code == .refused || error.code == .badKey {
                // The server refused us on purpose, or a local file broke since the start:
                // retrying will not help until someone acts.
                logger.error("\(error)")
            } catch {
                logger.warning("\(Self.oneLine(error))")
            }
            if ContinuousClock.now - started > .seconds(30) { backoff.reset() }
            let delay = backoff.next()
            logger.info("reconnecting in \(delay)")
            do { try await Task.sleep(for: delay) } catch { break }
        }
    }

    /// One connection: reports every interval and handles what the server sends until the
    /// connection ends. Returns the server's close frame, if it sent one.
    private func connectOnce(endpoint: HubEndpoint, files: ClientTLSFiles) async throws -> HubSocket.Close? {
        let socket = try await HubSocket.connect(to: endpoint, subprotocol: HubSubprotocol.slave, files: files)
        connected()
        return try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask {
                while !Task.isCancelled {
                    try await socket.send(await self.reportText())
                    try await Task.sleep(for: self.configuration.reportInterval)
                }
            }
            defer { group.cancelAll() }
            for try await event in socket.events {
                let text: String
                switch event {
                case .closed(let close):
                    return close
                case .text(let message):
                    text = message
                }
                let parsed: HubMessage
                do {
                    parsed = try HubMessage.decode(text)
                } catch {
                    self.logger.warning("ignoring a frame from the server that is not a hub message")
                    continue
                }
                if await self.handle(parsed) {
                    try await socket.send(self.reportText())
                }
                if case .reboot = self.pendingAction {
                    self.clearPendingAction()
                    try await self.actions.reboot()
                }
            }
            try Task.checkCancellation()
            return nil
        }
    }

    private func connected() {
        logger.info("connected; reporting every \(configuration.reportInterval) as \(facts.hostname)")
    }

    /// An error as the one line users see: an `IconError`'s code and message; for anything
    /// else only its type, never a library's dump.
    static func oneLine(_ error: any Error) -> String {
        if let error = error as? IconError { return HubSocket.printable(error.description, limit: 2048) }
        return "internal: unexpected \(type(of: error))"
    }

    enum PendingAction: Equatable { case none, reboot }
    private(set) var pendingAction = PendingAction.none
    private func clearPendingAction() { pendingAction = .none }

    /// The JSON text of a report now. Its `image_type` is the type the agent follows
    /// (`--image-type`, which defaults to the running image file's).
    func reportText() -> String {
        var data = facts.report(status: status)
        data.imageType = configuration.imageType
        return HubMessage.report(Report(data: data)).jsonText()
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
                    status = "Cannot reboot into \(timestamp): \(Self.oneLine(error))"
                    logger.error("\(status ?? "")")
                    return true
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
            logger.info("\(outcome)")
        } catch {
            status = "Update failed: \(Self.oneLine(error))"
            logger.error("\(status ?? "")")
        }
        return true
    }
}
