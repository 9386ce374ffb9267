public import Foundation
public import IconBoot
import IconCore
public import IconUpdate

/// Everything one run of ``DiskImager`` needs.
public struct DiskImagerConfiguration: Sendable {
    /// A block device or a disk image file (`--device`).
    public var device: String
    /// Percent of the disk for the PERSISTENT partition, 0 (none) to 99.
    public var persistentPercent: Int
    /// Which firmware the disk boots with.
    public var firmware: Firmware
    /// Where and how to fetch the image; its `imageDir` is replaced by `<BOOT>/iconograph`.
    public var fetch: FetcherConfiguration
    /// Asked with ``DiskTarget/question`` after the safety checks; `false` aborts. Throwing
    /// aborts with that error (the command throws when there is no terminal and no `--yes`).
    public var confirm: @Sendable (String) throws -> Bool
    /// Writes the outer boot menu `<bootDir>/grub/grub.cfg` for the ISOs in `imageDir`.
    public var writeBootMenu: @Sendable (_ bootDir: String, _ imageDir: String) throws -> Void
    /// Where temporary mount points and files go.
    public var temporaryDirectory: String
    /// The safety checks.
    public var deviceGuard: DeviceGuard

    public init(
        device: String,
        persistentPercent: Int = 0,
        firmware: Firmware = .bios,
        fetch: FetcherConfiguration,
        confirm: @escaping @Sendable (String) throws -> Bool,
        writeBootMenu: @escaping @Sendable (_ bootDir: String, _ imageDir: String) throws -> Void = { bootDir, imageDir in
            _ = try BootMenuUpdater().update(bootDir: bootDir, imageDir: imageDir)
        },
        temporaryDirectory: String = NSTemporaryDirectory(),
        deviceGuard: DeviceGuard = DeviceGuard()
    ) {
        self.device = device
        self.persistentPercent = persistentPercent
        self.firmware = firmware
        self.fetch = fetch
        self.confirm = confirm
        self.writeBootMenu = writeBootMenu
        self.temporaryDirectory = temporaryDirectory
        self.deviceGuard = deviceGuard
    }

    /// Throws unless the values are in range.
    /// - Throws: `.invalidArgument` naming the flag.
    public func validate() throws {
        try Self.validate(persistentPercent: persistentPercent)
    }

    /// Throws unless `persistentPercent` leaves room for BOOT: 0 (no PERSISTENT partition) to 99.
    /// - Throws: `.invalidArgument` naming `--persistent-percent`.
    public static func validate(persistentPercent: Int) throws {
        guard (0...99).contains(persistentPercent) else {
            throw IconError(.invalidArgument, "--persistent-percent must be 0 to 99, not \(persistentPercent)")
        }
    }
}
