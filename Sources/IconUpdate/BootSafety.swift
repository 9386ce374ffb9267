import Foundation
public import IconBoot
import IconCore
public import IconProtocol

/// The boot-safety bookkeeping on a machine's BOOT partition: the grubenv the outer menu
/// counts boot tries in (see `GrubMenu.bootSafetyHeader()`) and the agent's `BootState`.
///
/// The transitions:
/// - ``recordSwitch(to:bootTries:)``: `current` is about to name image T. Unless T is already
///   `icon_good`, T becomes `icon_pending` with `icon_tries` boots.
/// - ``markFirstImageGood(_:)``: a freshly imaged disk; its only image is good, nothing pending.
/// - ``markGood(_:)``: the running image proved itself.
/// - ``acknowledgeRollback(running:bootTries:now:)``: GRUB gave up on a pending image
///   (`icon_failed`); mark it bad, point `current` back at the running image, rewrite the menu.
public struct BootSafety: Sendable {
    /// Root of the BOOT partition (grubenv is `<bootDir>/grub/grubenv`).
    public var bootDir: String
    /// The image directory inside it (ISOs, `current`, `boot-state.json`).
    public var imageDir: String

    public init(bootDir: String, imageDir: String) {
        self.bootDir = bootDir
        self.imageDir = imageDir
    }

    /// The most boot tries the menu counts (`GrubMenu.maxBootTries`).
    public static var maxBootTries: Int { GrubMenu.maxBootTries }

    public var grubEnvPath: String { GrubEnvironment.path(bootDir: bootDir) }

    /// Throws unless `tries` is 1 to ``maxBootTries``.
    /// - Throws: `.invalidArgument` naming `--boot-tries`.
    public static func validate(bootTries tries: Int) throws {
        guard (1...maxBootTries).contains(tries) else {
            throw IconError(.invalidArgument, "--boot-tries must be 1 to \(maxBootTries), not \(tries)")
        }
    }

    /// grubenv is only ever written beside a boot menu Iconograph wrote: never in a host's own
    /// /boot (see `BootMenuUpdater.checkOwnership(bootDir:)`).
    ///
    /// - Throws: `.invalidArgument` naming the host's grub.cfg.
    public func checkOwnership() throws {
        try BootMenuUpdater.checkOwnership(bootDir: bootDir)
    }

    public func environment() throws -> GrubEnvironment {
        try GrubEnvironment.read(path: grubEnvPath)
    }

    public func state() throws -> BootState {
        try BootState.load(imageDir: imageDir)
    }

    /// Makes `timestamp` the pending image with `bootTries` tries, unless it is `icon_good`
    /// (then nothing is pending: switching back to a proven image needs no tries).
    ///
    /// - Throws: `.invalidArgument` for bad tries, `.io`/`.malformed` naming grubenv.
    public func recordSwitch(to timestamp: Int, bootTries: Int) throws {
        try Self.validate(bootTries: bootTries)
        try checkOwnership()
        var env = try environment()
        if env.timestamp(GrubEnvironment.Key.good) == timestamp {
            env[GrubEnvironment.Key.pending] = ""
            env[GrubEnvironment.Key.tries] = ""
        } else {
            env[GrubEnvironment.Key.pending] = String(timestamp)
            env[GrubEnvironment.Key.tries] = String(bootTries)
        }
        try env.write(to: grubEnvPath)
    }

    /// A new disk: `timestamp` is good, nothing pending or failed; creates grubenv (GRUB's
    /// `save_env` needs the file to exist) and the state file.
    public func markFirstImageGood(_ timestamp: Int) throws {
        try checkOwnership()
        var env = try environment()
        env[GrubEnvironment.Key.good] = String(timestamp)
        env[GrubEnvironment.Key.pending] = ""
        env[GrubEnvironment.Key.tries] = ""
        env[GrubEnvironment.Key.failed] = ""
        try env.write(to: grubEnvPath)
        var state = try state()
        state.markGood(timestamp)
        try state.save(imageDir: imageDir)
    }

    /// The running image proved itself: `icon_good` names it, and it is no longer pending.
    public func markGood(_ timestamp: Int) throws {
        try checkOwnership()
        var env = try environment()
        env[GrubEnvironment.Key.good] = String(timestamp)
        if env.timestamp(GrubEnvironment.Key.pending) == timestamp {
            env[GrubEnvironment.Key.pending] = ""
            env[GrubEnvironment.Key.tries] = ""
        }
        try env.write(to: grubEnvPath)
        var state = try state()
        state.markGood(timestamp)
        try state.save(imageDir: imageDir)
    }

    /// Whether `timestamp` is the image GRUB is still counting tries for.
    public func isPending(_ timestamp: Int) throws -> Bool {
        try environment().timestamp(GrubEnvironment.Key.pending) == timestamp
    }

    /// When GRUB gave up on a pending image (`icon_failed` set): marks it bad, records and
    /// returns the rollback, clears `icon_failed`, points `current` back at `running` (when
    /// its ISO is present) and rewrites the menu. Nil when nothing failed.
    ///
    /// - Parameters:
    ///   - running: the image the machine booted, from `/etc/iconograph.json`.
    ///   - bootTries: the configured tries, for the reason text.
    ///   - now: Unix seconds.
    public func acknowledgeRollback(running: Int?, bootTries: Int, now: Int) throws -> RollbackReport? {
        var env = try environment()
        guard let failed = env.timestamp(GrubEnvironment.Key.failed) else { return nil }
        try checkOwnership()
        let tries = bootTries == 1 ? "1 boot try" : "\(bootTries) boot tries"
        let rollback = RollbackReport(
            failed: failed, running: running, reason: "image \(failed) did not prove itself within \(tries)", at: now)
        var state = try state()
        state.markBad(failed)
        state.lastRollback = rollback
        try state.save(imageDir: imageDir)
        let directory = ImageDirectory(path: imageDir)
        if let running, running != failed, FileManager.default.fileExists(atPath: directory.isoPath(running)) {
            try directory.setCurrent(running)
            _ = try BootMenuUpdater().update(bootDir: bootDir, imageDir: imageDir)
        }
        // Last: until here GRUB keeps booting icon_good because icon_failed is set.
        env[GrubEnvironment.Key.failed] = ""
        try env.write(to: grubEnvPath)
        return rollback
    }
}
