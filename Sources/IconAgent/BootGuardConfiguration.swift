import IconCore
import IconUpdate

/// The agent's boot-safety settings (`--boot-tries`, `--good-after`, `--health-command`,
/// `--health-timeout`); see ``BootGuard``.
public struct BootGuardConfiguration: Sendable {
    /// Root of the BOOT partition (grubenv is `<bootDir>/grub/grubenv`).
    public var bootDir: String
    /// The image directory (ISOs, `current`, `boot-state.json`).
    public var imageDir: String
    /// JSON file naming the running image in its `timestamp` field.
    public var runningImageFile: String
    /// Boot tries a new image gets (1 to `BootSafety.maxBootTries`).
    public var bootTries: Int
    /// Uptime after which the running image may be marked good.
    public var goodAfter: Duration
    /// Uptime by which the health command must have succeeded; a pending image that has not
    /// proven itself by then is abandoned by rebooting, so GRUB counts the try.
    public var healthTimeout: Duration
    /// Pause between failed health checks.
    public var healthRetryInterval: Duration

    public init(
        bootDir: String, imageDir: String, runningImageFile: String = "/etc/iconograph.json", bootTries: Int = 1,
        goodAfter: Duration = .seconds(60), healthTimeout: Duration = .seconds(300),
        healthRetryInterval: Duration = .seconds(5)
    ) {
        self.bootDir = bootDir
        self.imageDir = imageDir
        self.runningImageFile = runningImageFile
        self.bootTries = bootTries
        self.goodAfter = goodAfter
        self.healthTimeout = healthTimeout
        self.healthRetryInterval = healthRetryInterval
    }

    /// Throws unless the values make sense.
    /// - Throws: `.invalidArgument` naming the flag.
    public func validate() throws {
        try BootSafety.validate(bootTries: bootTries)
        guard goodAfter >= .zero else {
            throw IconError(.invalidArgument, "--good-after must be 0 or more seconds")
        }
        guard healthTimeout >= goodAfter else {
            throw IconError(.invalidArgument, "--health-timeout must be at least --good-after")
        }
        guard healthRetryInterval > .zero else {
            throw IconError(.invalidArgument, "the health retry interval must be positive")
        }
    }

    var safety: BootSafety { BootSafety(bootDir: bootDir, imageDir: imageDir) }
}
