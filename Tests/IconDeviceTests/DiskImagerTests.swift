import Foundation
import IconBoot
import IconCore
@testable import IconProvision
import IconTestSupport
@testable import IconUpdate
import Testing


/// Real runs on 512 MiB sparse disk image files with loop devices, as root, fetching from a
/// loopback mutual-TLS server.
@Suite("Disk imager on loop devices", .serialized, .requiresRoot("loop devices and mounts"), DiskTools.required, .tags(.loopDevices))
struct DiskImagerTests {
    static let timestamp = 1_700_000_123

    /// Serves one xorriso-made ISO with a signed manifest and images `disk` from it.
    static func image(
        env: FetchEnvironment, disk: String, firmware: Firmware, percent: Int, lines: Locked<[String]>
    ) async throws -> FetchResult {
        let content = env.temp.join("isoroot")
        try FileManager.default.createDirectory(atPath: "\(content)/live", withIntermediateDirectories: true)
        try Data("kernel placeholder".utf8).write(to: URL(fileURLWithPath: "\(content)/live/vmlinuz"))
        try await DiskTools.run(
            "xorriso", ["-as", "mkisofs", "-quiet", "-V", "TEST_\(timestamp)", "-o", "\(env.serverDir)/\(timestamp).iso", content])
        try env.publish(manifestTimestamp: 2_000_000_000)
        try DiskTools.sparseDisk(at: disk, megabytes: 512)
        return try await DiskImageServer.with(env) { port in
            let configuration = DiskImagerConfiguration(
                device: disk, persistentPercent: percent, firmware: firmware,
                fetch: env.configuration(port: port, path: "image/\(DiskImageServer.imageType)"), confirm: { _ in true },
                temporaryDirectory: env.temp.path)
            let steps = StepReporter { line in lines.mutate { $0.append(line) } }
            return try await DiskImager(configuration: configuration, steps: steps).run()
        }
    }

    @Test func biosDiskWithPersistentPartition() async throws {
        try await FetchEnvironment.with { env in
            let disk = env.temp.join("disk.img")
            let lines = Locked<[String]>([])
            let result = try await Self.image(env: env, disk: disk, firmware: .bios, percent: 25, lines: lines)
            #expect(result.image?.timestamp == Self.timestamp)
            #expect(try await DiskTools.loops(of: disk).isEmpty, "loop device left attached")
            let stepNames = lines.value
            #expect(stepNames.contains { $0.hasPrefix("install GRUB (BIOS): ") && $0.hasSuffix(" s") })
            #expect(stepNames.contains { $0.hasPrefix("fetch image from https://127.0.0.1:") })

            // GRUB's boot image in the MBR: its "GRUB " message and the 0x55AA signature.
            let mbr = try #require(FileHandle(forReadingAtPath: disk)?.readData(ofLength: 512))
            #expect(mbr[510] == 0x55 && mbr[511] == 0xAA)
            #expect(String(decoding: mbr, as: UTF8.self).contains("GRUB "))

            try await DiskTools.withLoop(disk) { loop in
                let table = try await DiskTools.run("parted", ["--script", "--machine", loop, "unit", "MiB", "print"])
                let rows = table.split(separator: "\n").map(String.init)
                #expect(rows[1].contains(":msdos:"))
                #expect(rows.count == 4, "two partitions expected:\n\(table)")
                #expect(rows[2].hasPrefix("1:1.00MiB:") && rows[2].contains("boot"))
                #expect(rows[3].hasPrefix("2:384MiB:"))
                #expect(try await DiskTools.blkid("\(loop)p1", "LABEL") == "BOOT")
                #expect(try await DiskTools.blkid("\(loop)p1", "TYPE") == "ext4")
                #expect(try await DiskTools.blkid("\(loop)p2", "LABEL") == "PERSISTENT")
                try await Self.checkBoot(partition: "\(loop)p1", env: env, efi: false)
            }
            #expect(try await DiskTools.loops(of: disk).isEmpty)
        }
    }

    @Test func bothFirmwaresOnGPT() async throws {
        try await FetchEnvironment.with { env in
            let disk = env.temp.join("disk.img")
            _ = try await Self.image(env: env, disk: disk, firmware: .both, percent: 0, lines: Locked([]))
            #expect(try await DiskTools.loops(of: disk).isEmpty, "loop device left attached")
            let mbr = try #require(FileHandle(forReadingAtPath: disk)?.readData(ofLength: 512))
            #expect(String(decoding: mbr, as: UTF8.self).contains("GRUB "))
            try await DiskTools.withLoop(disk) { loop in
                let table = try await DiskTools.run("parted", ["--script", "--machine", loop, "print"])
                let rows = table.split(separator: "\n").map(String.init)
                #expect(rows[1].contains(":gpt:"))
                #expect(rows.count == 5, "three partitions expected:\n\(table)")
                #expect(rows[2].hasSuffix(":bios_grub:bios_grub;"))
                #expect(rows[3].contains(":ESP:") && rows[3].contains("esp"))
                #expect(rows[4].contains(":BOOT:"))
                #expect(try await DiskTools.blkid("\(loop)p2", "TYPE") == "vfat")
                #expect(try await DiskTools.blkid("\(loop)p3", "LABEL") == "BOOT")
                let efi = try await DiskTools.run("mdir", ["-b", "-i", "\(loop)p2", "::/EFI/BOOT"])
                #expect(efi.contains("BOOTX64.EFI"))
                try await Self.checkBoot(partition: "\(loop)p3", env: env, efi: true)
            }
        }
    }

    /// Mounts BOOT read-only and checks GRUB's modules, the ISO, `current` and the menu.
    static func checkBoot(partition: String, env: FetchEnvironment, efi: Bool) async throws {
        try await TemporaryMount.with(device: partition, parent: env.temp.path, runner: DiskTools.runner, logger: DiskTools.logger) { mnt in
            let fm = FileManager.default
            #expect(fm.fileExists(atPath: "\(mnt)/grub/i386-pc/normal.mod"))
            if efi {
                #expect(fm.fileExists(atPath: "\(mnt)/grub/x86_64-efi/normal.mod"))
            }
            let iso = "\(mnt)/iconograph/\(timestamp).iso"
            #expect(try FileHasher.sha256Hex(ofFileAt: iso) == env.serverHash(timestamp))
            #expect(try fm.destinationOfSymbolicLink(atPath: "\(mnt)/iconograph/current") == "\(timestamp).iso")
            let menu = try String(contentsOfFile: "\(mnt)/grub/grub.cfg", encoding: .utf8)
            #expect(menu.contains("/iconograph/\(timestamp).iso"))
            #expect(menu.contains("TEST_\(timestamp)"))
            // The first image is good and grubenv exists at full size for GRUB's save_env.
            let grubenv = try GrubEnvironment.read(path: "\(mnt)/grub/grubenv")
            #expect(grubenv.timestamp(GrubEnvironment.Key.good) == timestamp)
            #expect(grubenv.timestamp(GrubEnvironment.Key.pending) == nil)
            #expect((try fm.attributesOfItem(atPath: "\(mnt)/grub/grubenv"))[.size] as? Int == 1024)
            #expect(try BootState.load(imageDir: "\(mnt)/iconograph").good == [timestamp])
        }
    }

    @Test func mountedLoopDeviceIsRefused() async throws {
        try await withTemporaryDirectory(prefix: "icon-disk") { dir in
            let disk = dir.join("busy.img")
            try DiskTools.sparseDisk(at: disk, megabytes: 64)
            try await DiskTools.run("mkfs.ext4", ["-q", "-F", disk])
            let asked = Locked(false)
            try await DiskTools.withLoop(disk) { loop in
                try await TemporaryMount.with(device: loop, parent: dir.path, runner: DiskTools.runner, logger: DiskTools.logger) { mnt in
                    let configuration = DiskImagerConfiguration(
                        device: loop,
                        fetch: FetcherConfiguration(baseURL: "https://127.0.0.1:1/x", manifestTrustRoots: "/none", imageDir: "/none"),
                        confirm: { _ in asked.mutate { $0 = true }; return true })
                    do {
                        try await DiskImager(configuration: configuration).run()
                        Issue.record("a mounted device was imaged")
                    } catch let error as IconError {
                        #expect(error.code == .deviceBusy)
                        #expect(error.message == "\(loop) is in use: \(loop) is mounted on \(mnt)")
                    }
                    // The file itself is refused too while it is attached.
                    do {
                        try await DiskImager(configuration: DiskImagerConfiguration(
                            device: disk, fetch: configuration.fetch, confirm: { _ in true })).run()
                        Issue.record("an attached disk file was imaged")
                    } catch IconError.Code.deviceBusy {}
                }
            }
            #expect(!asked.value, "confirmation asked for a busy device")
            #expect(try await DiskTools.loops(of: disk).isEmpty)
        }
    }
}
