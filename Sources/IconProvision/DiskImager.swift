import Foundation
import IconBoot
public import IconCore
public import IconUpdate
public import Logging

/// Makes a bootable Iconograph disk (`icon image`): partitions a disk or disk image file,
/// makes the BOOT (and PERSISTENT) filesystems, installs GRUB for BIOS and/or UEFI, fetches
/// the chosen image into `<BOOT>/iconograph` with the ``Fetcher`` and writes the outer
/// boot menu.
///
/// Before anything is written the target is checked (not mounted, not the running system)
/// and the user confirms. Loop devices and mounts are always released, also on failure.
public struct DiskImager: Sendable {
    public let configuration: DiskImagerConfiguration
    public let runner: any ToolRunner
    public let steps: StepReporter
    public let logger: Logger

    public init(
        configuration: DiskImagerConfiguration, runner: any ToolRunner = SubprocessToolRunner(),
        steps: StepReporter = StepReporter(), logger: Logger = Logger(label: "icon.image")
    ) {
        self.configuration = configuration
        self.runner = runner
        self.steps = steps
        self.logger = logger
    }

    /// The name of the image directory on BOOT.
    public static let imageDirectoryName = "iconograph"

    /// Images the disk.
    ///
    /// - Throws: `.invalidArgument` for bad flags, `.deviceBusy` when the device is in use,
    ///   `.notConfirmed` when the user says no, `.toolFailed` naming the failing command,
    ///   `.notFound` when the manifest offers no image to this host, and the fetcher's errors.
    @discardableResult
    public func run() async throws -> FetchResult {
        try configuration.validate()
        let target = try await DiskTarget.inspect(
            configuration.device, deviceGuard: configuration.deviceGuard, runner: runner, logger: logger)
        // The trust roots and TLS files (the key matching the certificate) before the disk is
        // erased, not when the fetch step finds them wrong on an empty disk.
        try Fetcher(configuration: configuration.fetch).preflight()
        guard try configuration.confirm(target.question) else {
            throw IconError(.notConfirmed, "not erasing \(target.path): not confirmed")
        }
        return try await target.withBlockDevice(runner: runner, logger: logger) { device in
            try await image(device: device)
        }
    }

    /// Everything after the target is a block device.
    func image(device: String) async throws -> FetchResult {
        let layout = PartitionLayout(firmware: configuration.firmware, persistentPercent: configuration.persistentPercent)
        let node = { (role: PartitionLayout.Role) -> String? in
            layout.partition(role).map { PartitionLayout.partitionPath(device: device, number: $0.number) }
        }
        try await steps.step("partition \(device) (\(layout.label))") {
            try await runner.checked(Wipefs.wipeAll(device: device), logger: logger)
            try await runner.checked(Parted.partition(device: device, layout: layout), logger: logger)
            for partition in layout.partitions {
                try await DiskTarget.waitForNode(PartitionLayout.partitionPath(device: device, number: partition.number))
            }
        }
        let boot = node(.boot)!
        try await steps.step("format BOOT") {
            try await runner.checked(Mkfs.ext4(device: boot, label: "BOOT"), logger: logger)
        }
        if let persistent = node(.persistent) {
            try await steps.step("format PERSISTENT") {
                try await runner.checked(Mkfs.ext4(device: persistent, label: "PERSISTENT"), logger: logger)
            }
        }
        if let esp = node(.esp) {
            try await steps.step("format ESP") {
                try await runner.checked(Mkfs.vfat(device: esp, label: "ESP"), logger: logger)
            }
        }
        return try await TemporaryMount.with(
            device: boot, parent: configuration.temporaryDirectory, runner: runner, logger: logger
        ) { mountPoint in
            try await populate(device: device, esp: node(.esp), mountPoint: mountPoint)
        }
    }

    /// Installs GRUB, fetches the image and writes the menu on the mounted BOOT filesystem.
    func populate(device: String, esp: String?, mountPoint: String) async throws -> FetchResult {
        if configuration.firmware.bios {
            try await steps.step("install GRUB (BIOS)") {
                try await runner.checked(GrubInstall.bios(device: device, bootDirectory: mountPoint), logger: logger)
            }
        }
        if configuration.firmware.uefi, let esp {
            try await steps.step("install GRUB (UEFI)") {
                try await installEFI(esp: esp, mountPoint: mountPoint)
            }
        }
        var fetchConfiguration = configuration.fetch
        fetchConfiguration.imageDir = "\(mountPoint)/\(Self.imageDirectoryName)"
        // The menu is written as its own step below (with the injectable writer), not by the fetcher.
        fetchConfiguration.bootDir = nil
        let fetcher = Fetcher(configuration: fetchConfiguration)
        let result = try await steps.step("fetch image from \(configuration.fetch.baseURL)") {
            try await fetcher.fetch()
        }
        guard result.image != nil else {
            throw IconError(
                .notFound,
                "\(configuration.fetch.baseURL) offers no image to host \(configuration.fetch.hostname) (rollout); the disk would not boot"
            )
        }
        try await steps.step("write boot menu") {
            // The marker first: it makes the partition Iconograph's, whose menu and grubenv
            // `icon fetch --boot-dir` and the agent may rewrite.
            try BootMenuUpdater.writeMarker(bootDir: mountPoint)
            try configuration.writeBootMenu(mountPoint, fetchConfiguration.imageDir)
        }
        if let image = result.image {
            // The first image is good by definition (there is nothing to fall back to), and
            // GRUB's save_env needs grubenv to exist before the first switch.
            try await steps.step("write grubenv (\(image.timestamp) good)") {
                try BootSafety(bootDir: mountPoint, imageDir: fetchConfiguration.imageDir).markFirstImageGood(image.timestamp)
            }
        }
        return result
    }

    /// GRUB for x86_64-efi: its modules under `<BOOT>/grub/x86_64-efi` and a removable-media
    /// `EFI/BOOT/BOOTX64.EFI` on the ESP (see ``GrubInstall`` for why not `grub-install`).
    func installEFI(esp: String, mountPoint: String) async throws {
        let modules = "\(mountPoint)/grub/x86_64-efi"
        let work = "\(configuration.temporaryDirectory)/icon-efi-\(UUID().uuidString.prefix(8))"
        defer { try? FileManager.default.removeItem(atPath: work) }
        do {
            try FileManager.default.createDirectory(atPath: work, withIntermediateDirectories: true)
            try FileManager.default.createDirectory(atPath: modules, withIntermediateDirectories: true)
            try Data(GrubInstall.efiEarlyConfig.utf8).write(to: URL(fileURLWithPath: "\(work)/early.cfg"))
            let source = GrubInstall.efiModuleDirectory
            for name in try FileManager.default.contentsOfDirectory(atPath: source)
            where name.hasSuffix(".mod") || name.hasSuffix(".lst") {
                let destination = "\(modules)/\(name)"
                try? FileManager.default.removeItem(atPath: destination)
                try FileManager.default.copyItem(atPath: "\(source)/\(name)", toPath: destination)
            }
        } catch {
            throw IconError(.io, "cannot copy GRUB EFI modules from \(GrubInstall.efiModuleDirectory) to \(modules)", cause: error)
        }
        let image = "\(work)/BOOTX64.EFI"
        try await runner.checked(GrubInstall.efiImage(output: image, configPath: "\(work)/early.cfg"), logger: logger)
        try await runner.checked(GrubInstall.efiDirectories(espDevice: esp), logger: logger)
        try await runner.checked(GrubInstall.efiCopy(image: image, espDevice: esp), logger: logger)
    }
}
