import Foundation
import IconBoot
import IconCore
@testable import IconProvision
import IconTestSupport
@testable import IconUpdate
import Testing


@Suite("Disk imager plan and invocations")
struct DiskImagerInvocationTests {
    @Test func biosLayoutIsMsdosWithBootAndPersistent() {
        let layout = PartitionLayout(firmware: .bios, persistentPercent: 30)
        #expect(layout.label == "msdos")
        #expect(layout.partitions.map(\.role) == [.boot, .persistent])
        #expect(layout.partition(.boot)?.end == "70%")
        #expect(layout.partition(.persistent)?.start == "70%")
        #expect(layout.partition(.persistent)?.number == 2)
    }

    @Test func bothLayoutIsGPTWithBiosGrubAndESP() {
        let layout = PartitionLayout(firmware: .both, persistentPercent: 0)
        #expect(layout.label == "gpt")
        #expect(layout.partitions.map(\.role) == [.biosGrub, .esp, .boot])
        #expect(layout.partition(.boot)?.number == 3)
        #expect(layout.partition(.boot)?.end == "100%")
        #expect(layout.partition(.persistent) == nil)
        let uefi = PartitionLayout(firmware: .uefi, persistentPercent: 10)
        #expect(uefi.partitions.map(\.role) == [.esp, .boot, .persistent])
    }

    @Test func partitionNodesFollowKernelNaming() {
        #expect(PartitionLayout.partitionPath(device: "/dev/sda", number: 1) == "/dev/sda1")
        #expect(PartitionLayout.partitionPath(device: "/dev/loop3", number: 2) == "/dev/loop3p2")
        #expect(PartitionLayout.partitionPath(device: "/dev/nvme0n1", number: 3) == "/dev/nvme0n1p3")
    }

    @Test func partedWritesWholeTableInOneRun() {
        let msdos = Parted.partition(device: "/dev/loop0", layout: PartitionLayout(firmware: .bios, persistentPercent: 50))
        #expect(
            msdos.commandLine
                == "parted --script --align optimal /dev/loop0 mklabel msdos mkpart primary ext4 1MiB 50% set 1 boot on mkpart primary ext4 50% 100%"
        )
        let gpt = Parted.partition(device: "/dev/sdx", layout: PartitionLayout(firmware: .both, persistentPercent: 0))
        #expect(
            gpt.commandLine
                == "parted --script --align optimal /dev/sdx mklabel gpt mkpart bios_grub ext4 1MiB 2MiB set 1 bios_grub on mkpart ESP fat32 2MiB 66MiB set 2 esp on mkpart BOOT ext4 66MiB 100%"
        )
    }

    @Test func toolInvocations() {
        #expect(Mkfs.ext4(device: "/dev/sdx1", label: "BOOT").commandLine == "mkfs.ext4 -q -F -L BOOT /dev/sdx1")
        #expect(Mkfs.vfat(device: "/dev/sdx2", label: "ESP").commandLine == "mkfs.vfat -F 32 -n ESP /dev/sdx2")
        #expect(Losetup.attach(file: "/tmp/d.img").commandLine == "losetup --partscan --find --show /tmp/d.img")
        #expect(Losetup.detach(device: "/dev/loop1").commandLine == "losetup --detach /dev/loop1")
        #expect(
            GrubInstall.bios(device: "/dev/loop1", bootDirectory: "/mnt/x").commandLine
                == "grub-install --target=i386-pc --boot-directory=/mnt/x /dev/loop1")
        #expect(GrubInstall.efiCopy(image: "/t/B.EFI", espDevice: "/dev/loop1p2").arguments.last == "::/EFI/BOOT/BOOTX64.EFI")
        #expect(GrubInstall.efiImage(output: "/t/B.EFI", configPath: "/t/e.cfg").arguments.contains("--format=x86_64-efi"))
        #expect(Mount.mount(device: "/dev/sdb1", on: "/mnt").commandLine == "mount /dev/sdb1 /mnt")
        #expect(Losetup.devices(fromAssociated: "/dev/loop2: []: (/tmp/a.img)\n/dev/loop5: [2049]:12 (/tmp/a.img)\n") == ["/dev/loop2", "/dev/loop5"])
    }

    @Test func humanSizes() {
        #expect(DiskTarget.humanSize(512 << 20) == "512 MiB")
        #expect(DiskTarget.humanSize(8 << 30) == "8 GiB")
        #expect(DiskTarget.humanSize(UInt64(7.5 * Double(1 << 30))) == "7.5 GiB")
        #expect(DiskTarget(path: "/dev/sdx", isFile: false, size: 8 << 30).question == "erase /dev/sdx (8 GiB)? [y/N] ")
    }

    @Test func persistentPercentOutOfRangeIsRefusedBeforeAnyTool() async throws {
        let runner = RecordingToolRunner()
        let imager = DiskImager(configuration: try Self.configuration(device: "/nonexistent", percent: 100), runner: runner)
        await expectIconError(.invalidArgument) { try await imager.run() }
        #expect(runner.invocations.isEmpty)
    }

    @Test func declinedConfirmationTouchesNothing() async throws {
        try await withTemporaryDirectory { dir in
            let file = dir.join("disk.img")
            _ = FileManager.default.createFile(atPath: file, contents: Data(count: 4096))
            let runner = RecordingToolRunner()
            let imager = DiskImager(
                configuration: try Self.configuration(device: file, confirm: { _ in false }), runner: runner)
            do {
                try await imager.run()
                Issue.record("expected a refusal")
            } catch IconError.Code.notConfirmed {}
            #expect(runner.commandLines == ["losetup --associated \(file)"])
        }
    }

    @Test func loopDeviceIsDetachedWhenPartitioningFails() async throws {
        try await withTemporaryDirectory { dir in
            let file = dir.join("disk.img")
            _ = FileManager.default.createFile(atPath: file, contents: Data(count: 4096))
            let runner = RecordingToolRunner { invocation in
                switch invocation.executable {
                case "losetup" where invocation.arguments.contains("--show"):
                    return ToolOutput(exitCode: 0, standardOutput: "/dev/loop42\n")
                case "parted": return ToolOutput(exitCode: 1, standardError: "Error: boom")
                default: return ToolOutput(exitCode: 0)
                }
            }
            let imager = DiskImager(configuration: try Self.configuration(device: file), runner: runner)
            do {
                try await imager.run()
                Issue.record("expected parted to fail")
            } catch IconError.Code.toolFailed {}
            #expect(runner.invocations.map(\.executable) == ["losetup", "losetup", "wipefs", "parted", "losetup"])
            #expect(runner.commandLines.last == "losetup --detach /dev/loop42")
        }
    }

    @Test func attachedFileIsRefused() async throws {
        try await withTemporaryDirectory { dir in
            let file = dir.join("disk.img")
            _ = FileManager.default.createFile(atPath: file, contents: Data(count: 4096))
            let runner = RecordingToolRunner { _ in ToolOutput(exitCode: 0, standardOutput: "/dev/loop7: []: (\(file))\n") }
            let imager = DiskImager(configuration: try Self.configuration(device: file), runner: runner)
            do {
                try await imager.run()
                Issue.record("expected a refusal")
            } catch let error as IconError {
                #expect(error.code == .deviceBusy)
                #expect(error.message.contains("/dev/loop7"))
            }
            #expect(runner.invocations.count == 1)
        }
    }

    /// What `icon image` leaves on BOOT once GRUB is installed (tools recorded, the image
    /// fetched from a real server): the marker that makes the partition Iconograph's, the
    /// menu, and grubenv with the image good.
    @Test func bootGetsTheMarkerTheMenuAndGrubenv() async throws {
        try await FetchEnvironment.with { env in
            try env.makeImage(1_700_000_123)
            try env.publish(manifestTimestamp: 2_000_000_000)
            let mount = env.temp.join("mnt")
            try FileManager.default.createDirectory(atPath: mount, withIntermediateDirectories: true)
            let runner = RecordingToolRunner()
            try await DiskImageServer.with(env) { port in
                var fetch = env.configuration(port: port, path: "image/\(DiskImageServer.imageType)")
                fetch.bootDir = nil
                let imager = DiskImager(
                    configuration: DiskImagerConfiguration(device: "/dev/loop42", fetch: fetch, confirm: { _ in true }),
                    runner: runner)
                _ = try await imager.populate(device: "/dev/loop42", esp: nil, mountPoint: mount)
            }
            #expect(runner.invocations.map(\.executable) == ["grub-install"])
            #expect(FileManager.default.fileExists(atPath: "\(mount)/\(BootMenuUpdater.markerFileName)"))
            let menu = try String(contentsOfFile: "\(mount)/grub/grub.cfg", encoding: .utf8)
            #expect(GrubMenu.isIconographMenu(menu))
            #expect(try GrubEnvironment.read(path: "\(mount)/grub/grubenv").timestamp(GrubEnvironment.Key.good) == 1_700_000_123)
            // Even a menu someone later replaced stays Iconograph's to rewrite on this partition.
            try Data("# hand-written\n".utf8).write(to: URL(fileURLWithPath: "\(mount)/grub/grub.cfg"))
            #expect(throws: Never.self) { try BootMenuUpdater.checkOwnership(bootDir: mount) }
        }
    }

    /// A configuration whose trust file exists (the imager checks it before erasing), next
    /// to the device when it is a file in a test directory.
    static func configuration(
        device: String, percent: Int = 0, confirm: @escaping @Sendable (String) throws -> Bool = { _ in true }
    ) throws -> DiskImagerConfiguration {
        let directory = (device as NSString).deletingLastPathComponent
        var trust = "/nonexistent"
        if FileManager.default.fileExists(atPath: directory), directory != "/" {
            trust = try TestPKI(directory: "\(directory)/pki").root.certPath
        }
        return DiskImagerConfiguration(
            device: device, persistentPercent: percent,
            fetch: FetcherConfiguration(baseURL: "https://127.0.0.1:1/image/x", manifestTrustRoots: trust, imageDir: "/nonexistent"),
            confirm: confirm)
    }
}
