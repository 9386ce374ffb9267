import Foundation
import IconBoot
import IconCore
public import IconProtocol
import IconUpdate
public import Logging

/// The agent's side of boot safety, as two steps driven by ``Agent``:
/// 1. at start, ``checkRollback()``: when GRUB gave up on a pending image, mark it bad,
///    record the rollback and point `current` back at the running image;
/// 2. then ``prove()``: once the machine has been up `goodAfter` and the health command
///    succeeds, mark the running image good; if it is still pending when `healthTimeout`
///    passes without a success, reboot so GRUB counts the try (and falls back when none is
///    left).
///
/// Time (uptime, sleeping, the wall clock) and the health command come through
/// ``AgentActions`` so tests drive every transition without waiting or rebooting.
public struct BootGuard: Sendable {
    public let configuration: BootGuardConfiguration
    let actions: AgentActions
    let logger: Logger

    public init(configuration: BootGuardConfiguration, actions: AgentActions, logger: Logger) {
        self.configuration = configuration
        self.actions = actions
        self.logger = logger
    }

    /// How ``prove()`` ended.
    public enum Outcome: Sendable, Equatable {
        /// The running image was marked good.
        case markedGood(Int)
        /// The running image was already `icon_good`; nothing to prove.
        case alreadyGood(Int)
        /// The health command did not succeed in time and the pending image was abandoned:
        /// the reboot action ran.
        case rebooted(Int)
        /// The health command did not succeed in time, but the image is not pending, so a
        /// reboot would only come back to it; it stays unmarked.
        case healthFailed(Int)
        /// No running image timestamp (not booted from an Iconograph image): the running image
        /// file is missing, or names no timestamp.
        case noRunningImage(file: String, missing: Bool)

        /// A one-line status for reports.
        public var status: String {
            switch self {
            case .markedGood(let timestamp): "Image \(timestamp) marked good"
            case .alreadyGood(let timestamp): "Image \(timestamp) is good"
            case .rebooted(let timestamp): "Image \(timestamp) failed its health check; rebooting so GRUB falls back"
            case .healthFailed(let timestamp): "Image \(timestamp) failed its health check (not pending; not rebooting)"
            case .noRunningImage(let file, let missing):
                "not running an Iconograph image (\(file) \(missing ? "missing" : "names no timestamp")): boot safety is off"
            }
        }
    }

    var running: Int? { RunningImage.timestamp(fromFile: configuration.runningImageFile) }

    /// Acknowledges a fallback GRUB made (see `BootSafety.acknowledgeRollback`).
    ///
    /// - Returns: the rollback, nil when GRUB made none.
    /// - Throws: `.io`/`.malformed` naming grubenv or the state file.
    public func checkRollback() throws -> RollbackReport? {
        let rollback = try configuration.safety.acknowledgeRollback(
            running: running, bootTries: configuration.bootTries, now: actions.now())
        if let rollback {
            logger.warning("rollback: \(rollback.reason); running \(rollback.running.map(String.init) ?? "unknown")")
        }
        return rollback
    }

    /// Waits for `goodAfter` of uptime, then runs the health check until it succeeds or
    /// `healthTimeout` of uptime has passed.
    ///
    /// - Throws: `CancellationError` from the sleeps, file errors, the reboot action's error.
    public func prove() async throws -> Outcome {
        guard let running else {
            let file = configuration.runningImageFile
            return .noRunningImage(file: file, missing: !FileManager.default.fileExists(atPath: file))
        }
        let safety = configuration.safety
        let env = try safety.environment()
        if env.timestamp(GrubEnvironment.Key.good) == running, !(try safety.isPending(running)) {
            var state = try safety.state()
            if !state.good.contains(running) {
                state.markGood(running)
                try state.save(imageDir: configuration.imageDir)
            }
            return .alreadyGood(running)
        }
        while true {
            let up = uptime()
            if up >= configuration.goodAfter { break }
            try await actions.sleep(configuration.goodAfter - up)
        }
        while true {
            if await actions.healthCheck() {
                try safety.markGood(running)
                logger.notice("image \(running) marked good")
                return .markedGood(running)
            }
            let up = uptime()
            if up >= configuration.healthTimeout {
                guard try safety.isPending(running) else {
                    logger.warning("health command still failing after \(configuration.healthTimeout); image \(running) is not pending")
                    return .healthFailed(running)
                }
                logger.error("health command still failing after \(configuration.healthTimeout); rebooting so GRUB falls back")
                try await actions.reboot()
                return .rebooted(running)
            }
            try await actions.sleep(min(configuration.healthRetryInterval, configuration.healthTimeout - up))
        }
    }

    func uptime() -> Duration {
        .milliseconds(Int64((actions.uptime() * 1000).rounded(.down)))
    }
}
