import Foundation
import IconBoot
import IconCore
@testable import IconProvision
import IconTestSupport
@testable import IconUpdate
import Testing



/// The outer menu's boot-safety header run by real GRUB: a small BIOS disk (msdos, ext4
/// BOOT, `grub-install`) whose image directory holds tiny ISOs that only print which image
/// booted and reboot (QEMU exits with `-no-reboot`); grubenv is read back after each boot.
/// Each boot takes a few seconds (mostly the menu's 5 s timeout).
@Suite(
    "GRUB boot tries in QEMU", .serialized,
    .imageTests, DiskTools.required, .requiresExecutable("qemu-system-x86_64", package: "qemu-system-x86"),
    .tags(.qemu, .loopDevices))
struct GrubBootSafetyQEMUTests {
    static let good = 1_000_000_000
    static let pending = 2_000_000_000

    @Test(.timeLimit(.minutes(TestTiming.minutes(5))))
    func pendingImageGetsItsTriesThenGrubFallsBackToTheGoodOne() async throws {
        try await withTemporaryDirectory(prefix: "icon-grubenv-qemu") { dir in
            let disk = dir.join("disk.img")
            try await Self.makeDisk(disk, work: dir)

            // (a) pending=B with one try: GRUB counts it down and boots B.
            let first = try await Self.bootedImage(disk)
            #expect(first == [Self.pending], "console: \(first)")
            var env = try await Self.grubenv(disk, work: dir)
            #expect(env["icon_tries"] == "0")
            #expect(env.timestamp("icon_pending") == Self.pending)
            #expect(env.timestamp("icon_failed") == nil)

            // (b) B never marked good: GRUB records the failure and boots the good image A.
            let second = try await Self.bootedImage(disk)
            #expect(second == [Self.good], "console: \(second)")
            env = try await Self.grubenv(disk, work: dir)
            #expect(env.timestamp("icon_failed") == Self.pending)
            #expect(env["icon_pending"] == "")
            #expect(env.timestamp("icon_good") == Self.good)

            // (c) Until the agent acknowledges the failure, `current` still names B, yet GRUB
            // keeps booting A.
            let third = try await Self.bootedImage(disk)
            #expect(third == [Self.good], "console: \(third)")

            // (d) A disk without grubenv (imaged before boot safety) boots `current` as before.
            try await Self.withBootPartition(disk, work: dir) { mnt in
                try FileManager.default.removeItem(atPath: GrubEnvironment.path(bootDir: mnt))
            }
            let fourth = try await Self.bootedImage(disk)
            #expect(fourth == [Self.pending], "console: \(fourth)")
        }
    }

    /// Partitions, formats and fills the disk: GRUB, ISOs A (good) and B (current, pending
    /// with 1 try), the outer menu and grubenv, as `icon image` and the fetcher leave them.
    static func makeDisk(_ disk: String, work: TemporaryDirectory) async throws {
        try DiskTools.sparseDisk(at: disk, megabytes: 64)
        try await DiskTools.run("parted", ["--script", disk, "mklabel", "msdos", "mkpart", "primary", "ext4", "1MiB", "100%", "set", "1", "boot", "on"])
        for timestamp in [good, pending] {
            let root = work.join("iso-\(timestamp)")
            try FileManager.default.createDirectory(atPath: "\(root)/boot/grub", withIntermediateDirectories: true)
            let config = "serial\nterminal_output serial console\necho ICON-BOOTED-\(timestamp)\nreboot\n"
            try Data(config.utf8).write(to: URL(fileURLWithPath: "\(root)/boot/grub/loopback.cfg"))
            try await DiskTools.run("xorriso", ["-as", "mkisofs", "-quiet", "-V", "T\(timestamp)", "-o", work.join("\(timestamp).iso"), root])
        }
        try await DiskTools.withLoop(disk) { loop in
            let partition = "\(loop)p1"
            try await DiskTarget.waitForNode(partition)
            try await DiskTools.runner.checked(Mkfs.ext4(device: partition, label: "BOOT"), logger: DiskTools.logger)
            try await TemporaryMount.with(device: partition, parent: work.path, runner: DiskTools.runner, logger: DiskTools.logger) { mnt in
                try await DiskTools.runner.checked(GrubInstall.bios(device: loop, bootDirectory: mnt), logger: DiskTools.logger)
                let images = "\(mnt)/iconograph"
                try FileManager.default.createDirectory(atPath: images, withIntermediateDirectories: true)
                for timestamp in [good, pending] {
                    try FileManager.default.copyItem(atPath: work.join("\(timestamp).iso"), toPath: "\(images)/\(timestamp).iso")
                }
                let safety = BootSafety(bootDir: mnt, imageDir: images)
                try safety.markFirstImageGood(good)
                try safety.recordSwitch(to: pending, bootTries: 1)
                try ImageDirectory(path: images).setCurrent(pending)
                _ = try BootMenuUpdater().update(bootDir: mnt, imageDir: images)
            }
        }
    }

    /// Boots the disk until QEMU exits (the ISOs reboot at once) and returns the timestamps
    /// the console says were booted.
    static func bootedImage(_ disk: String) async throws -> [Int] {
        try? FileManager.default.removeItem(atPath: disk + ".console.log")
        let console = try await DiskImagerQEMUTests.boot(disk: disk, drives: [], uefi: false, until: "\u{0}never\u{0}", seconds: 120)
        // A boot cut short says so, instead of showing up later as an unexpected grubenv.
        #expect(!console.timedOut, "QEMU did not finish the boot within \(TestTiming.seconds(120)) s (ICON_TEST_SLOWDOWN=\(TestTiming.slowdown)): \(console.text.suffix(500))")
        return console.text.split(whereSeparator: \.isNewline).compactMap { line -> Int? in
            guard let range = line.range(of: "ICON-BOOTED-") else { return nil }
            return Int(line[range.upperBound...].prefix { $0.isNumber })
        }
    }

    /// Runs `body` with the disk's BOOT partition mounted.
    static func withBootPartition<T: Sendable>(
        _ disk: String, work: TemporaryDirectory, _ body: (String) async throws -> T
    ) async throws -> T {
        try await DiskTools.withLoop(disk) { loop in
            try await DiskTarget.waitForNode("\(loop)p1")
            return try await TemporaryMount.with(device: "\(loop)p1", parent: work.path, runner: DiskTools.runner, logger: DiskTools.logger, body)
        }
    }

    /// grubenv as GRUB left it on the disk.
    static func grubenv(_ disk: String, work: TemporaryDirectory) async throws -> GrubEnvironment {
        try await withBootPartition(disk, work: work) { mnt in
            let bytes = try Data(contentsOf: URL(fileURLWithPath: GrubEnvironment.path(bootDir: mnt)))
            #expect(bytes.count == GrubEnvironment.blockSize)
            return try GrubEnvironment(bytes: bytes, source: "grubenv on \(disk)")
        }
    }
}
