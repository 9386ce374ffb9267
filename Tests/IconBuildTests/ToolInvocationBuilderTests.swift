import Foundation
import IconCore
import IconTestSupport
import Logging
import Testing

@testable import IconBuild

@Suite struct ToolInvocationBuilderTests {
    @Test func mmdebstrapTakesAllSourcesAndPackages() {
        let invocation = Mmdebstrap.invocation(
            release: "bookworm", arch: "amd64", target: "/w/chroot",
            sources: ["deb http://m/debian bookworm main", "deb http://m/debian-security bookworm-security main"],
            packages: ["live-boot", "systemd-sysv"], environment: ["TMPDIR": "/w"])
        #expect(invocation.executable == "mmdebstrap")
        #expect(invocation.arguments.contains("--variant=minbase"))
        #expect(invocation.arguments.contains("--architectures=amd64"))
        #expect(invocation.arguments.contains("--include=live-boot,systemd-sysv"))
        // Release and target come before the sources, in that order.
        let tail = Array(invocation.arguments.suffix(4))
        #expect(tail == ["bookworm", "/w/chroot", "deb http://m/debian bookworm main",
                         "deb http://m/debian-security bookworm-security main"])
        #expect(invocation.environment["TMPDIR"] == "/w")
    }

    @Test func mmdebstrapSyncsTheDebCacheInAndOut() {
        let invocation = Mmdebstrap.invocation(
            release: "bookworm", arch: "amd64", target: "/c/roots/k.partial.tar", sources: [], packages: [],
            debCache: "/var/cache/my icon/debs")
        #expect(invocation.arguments.contains("--skip=essential/unlink"))
        #expect(invocation.arguments.contains("--setup-hook=sync-in '/var/cache/my icon/debs' /var/cache/apt/archives/"))
        #expect(invocation.arguments.contains("--customize-hook=sync-out /var/cache/apt/archives '/var/cache/my icon/debs'"))
        // Hooks come before the positional release and target.
        let hook = invocation.arguments.firstIndex { $0.hasPrefix("--customize-hook") } ?? Int.max
        let release = invocation.arguments.firstIndex(of: "bookworm") ?? -1
        #expect(hook < release)
        let plain = Mmdebstrap.invocation(release: "bookworm", arch: "amd64", target: "/t", sources: [], packages: [])
        #expect(!plain.arguments.contains { $0.contains("hook") })
    }

    @Test func mmdebstrapWithoutPackagesHasNoInclude() {
        let invocation = Mmdebstrap.invocation(release: "sid", arch: "arm64", target: "/t", sources: [], packages: [])
        #expect(!invocation.arguments.contains { $0.hasPrefix("--include") })
    }

    @Test func debootstrapMinbase() {
        let invocation = Debootstrap.invocation(
            release: "bookworm", arch: "amd64", target: "/t", mirror: "http://m/debian",
            components: ["main", "contrib"], packages: ["a", "b"])
        #expect(invocation.commandLine
            == "debootstrap --variant=minbase --arch=amd64 --components=main,contrib --include=a,b bookworm /t http://m/debian")
    }

    @Test func mksquashfsCompressionAndReproducibility() {
        let plain = Mksquashfs.invocation(source: "/w/chroot", destination: "/w/iso/live/filesystem.squashfs")
        #expect(plain.arguments.prefix(5) == ["/w/chroot", "/w/iso/live/filesystem.squashfs", "-noappend", "-comp", "zstd"])
        #expect(plain.environment.isEmpty)
        #expect(plain.arguments.contains("proc/*"))
        let pinned = Mksquashfs.invocation(
            source: "/s", destination: "/d", compression: "xz", processors: 2, sourceDateEpoch: 1_700_000_000)
        #expect(pinned.arguments.contains("xz"))
        #expect(pinned.commandLine.contains("-processors 2"))
        #expect(pinned.environment["SOURCE_DATE_EPOCH"] == "1700000000")
        #expect(!pinned.arguments.contains("-Xcompression-level"))
    }

    @Test func zstdDefaultsToLevelNineAndLevelsAreChecked() throws {
        let plain = Mksquashfs.invocation(source: "/s", destination: "/d")
        #expect(plain.commandLine.contains("-comp zstd -no-progress -Xcompression-level 9"))
        #expect(Mksquashfs.invocation(source: "/s", destination: "/d", compression: "zstd", level: 19).commandLine.contains("-Xcompression-level 19"))
        #expect(Mksquashfs.invocation(source: "/s", destination: "/d", compression: "gzip", level: 6).commandLine.contains("-Xcompression-level 6"))
        var options = ImageBuildOptions(imageDirectory: "/out", imageType: "kiosk", release: "bookworm", flavor: .debian, timestamp: 1)
        options.compressionLevel = 23
        expectIconError(.invalidArgument) { try options.validate() }
        options.compression = "lz4"
        options.compressionLevel = 3
        let error = #expect(throws: IconError.self) { try options.validate() }
        #expect(error?.code == .invalidArgument)
        #expect(error?.message == "--compression-level: lz4 takes no level")
        options.compression = "zstd"
        try options.validate()
    }

    @Test func hybridIsoWithoutAnEpochLeavesDatesToXorriso() {
        let invocation = Xorriso.hybridIso(
            tree: "/w/iso", output: "/out/x.iso", volumeID: "ICON SERVER", biosImage: "boot/grub/i386-pc/eltorito.img",
            hybridMBR: "/usr/lib/grub/i386-pc/boot_hybrid.img", efiImage: "boot/grub/efi.img")
        #expect(invocation.executable == "xorriso")
        #expect(invocation.arguments.prefix(8) == ["-as", "mkisofs", "-o", "/out/x.iso", "-V", "ICON SERVER", "-iso-level", "3"])
        #expect(invocation.arguments.last == "/w/iso")
        #expect(invocation.commandLine.contains(
            "-b boot/grub/i386-pc/eltorito.img -no-emul-boot -boot-load-size 4 -boot-info-table --grub2-boot-info"))
        #expect(invocation.commandLine.contains("--grub2-mbr /usr/lib/grub/i386-pc/boot_hybrid.img"))
        #expect(invocation.commandLine.contains(
            "-eltorito-alt-boot -e boot/grub/efi.img -no-emul-boot -efi-boot-part --efi-boot-image"))
        #expect(!invocation.arguments.contains { $0.contains("date") || $0.contains("guid") })
        #expect(invocation.environment.isEmpty)
    }

    @Test func hybridIsoWithAnEpochPinsEveryDateAndTheDiskGUID() throws {
        let invocation = Xorriso.hybridIso(
            tree: "/w/iso", output: "/o.iso", volumeID: "V", biosImage: "b.img", hybridMBR: "/m.img",
            efiImage: "e.img", sourceDateEpoch: 1_700_000_000)
        // 1700000000 is 2023-11-14 22:13:20 UTC.
        #expect(Xorriso.isoDate(1_700_000_000) == "2023111422132000")
        #expect(Xorriso.isoDate(0) == "1970010100000000")
        #expect(invocation.arguments.contains("--modification-date=2023111422132000"))
        let all = try #require(invocation.arguments.firstIndex(of: "--set_all_file_dates"))
        #expect(invocation.arguments[all + 1] == "2023111422132000")
        let guid = try #require(invocation.arguments.firstIndex(of: "--gpt_disk_guid"))
        #expect(invocation.arguments[guid + 1] == "modification-date")
        #expect(invocation.environment["SOURCE_DATE_EPOCH"] == "1700000000")
        // Options come before the tree, which xorriso takes last.
        #expect(invocation.arguments.last == "/w/iso")
    }

    @Test func hybridIsoStepsPinTheEFIImageOnlyWithAnEpoch() {
        let pinned = HybridIso(
            tree: "/w/iso", scratch: "/w", output: "/o.iso", volumeID: "ICON_X_1", sourceDateEpoch: 1_700_000_000)
        let steps = pinned.invocations(efiImageKiB: 1440)
        #expect(steps.map(\.executable) == ["grub-mkimage", "grub-mkimage", "mkfs.fat", "mmd", "mcopy", "xorriso"])
        #expect(steps[0].arguments.contains("--output=/w/iso/boot/grub/i386-pc/eltorito.img"))
        #expect(steps[0].arguments.contains("--format=i386-pc-eltorito"))
        #expect(steps[1].arguments.contains("--config=/w/grub-efi.cfg"))
        #expect(steps[1].arguments.contains("--output=/w/BOOTX64.EFI"))
        #expect(steps[2].commandLine == "mkfs.fat --invariant -i 6553f100 -C -n ICONEFI /w/iso/boot/grub/efi.img 1440")
        #expect(steps[3].commandLine == "mmd -i /w/iso/boot/grub/efi.img ::/EFI ::/EFI/BOOT")
        #expect(steps[4].commandLine == "mcopy -m -i /w/iso/boot/grub/efi.img /w/BOOTX64.EFI ::/EFI/BOOT/BOOTX64.EFI")
        #expect(steps[3].environment["SOURCE_DATE_EPOCH"] == "1700000000")
        #expect(steps[4].environment["SOURCE_DATE_EPOCH"] == "1700000000")
        #expect(steps[5].arguments.contains("--set_all_file_dates"))
        #expect(pinned.efiConfig == "search --no-floppy --set=root --label ICON_X_1\nset prefix=($root)/boot/grub\n")

        let plain = HybridIso(tree: "/w/iso", scratch: "/w", output: "/o.iso", volumeID: "my image")
        let plainSteps = plain.invocations(efiImageKiB: 2000)
        #expect(plainSteps[2].commandLine == "mkfs.fat -C -n ICONEFI /w/iso/boot/grub/efi.img 2000")
        #expect(plainSteps.allSatisfy { $0.environment["SOURCE_DATE_EPOCH"] == nil })
        #expect(plain.efiConfig.hasPrefix("search --no-floppy --set=root --label 'my image'\n"))
        #expect(HybridIso.efiImageKiB(loaderBytes: 176_128) == 1440)
        #expect(HybridIso.efiImageKiB(loaderBytes: 4 << 20) == 5376)
    }

    @Test func xorrisoReadsWithoutMounting() {
        #expect(Xorriso.extract(iso: "/a.iso", path: "/live/vmlinuz", to: "/tmp/k").commandLine
            == "xorriso -osirrox on -indev /a.iso -extract /live/vmlinuz /tmp/k")
        #expect(Xorriso.pvdInfo(iso: "/a.iso").arguments == ["-indev", "/a.iso", "-pvd_info"])
    }

    @Test func diversionsFollowDpkgsFileListsAndUndoInReverse() async throws {
        try await withTemporaryDirectory { dir in
            let root = dir.path
            try FileManager.default.createDirectory(atPath: "\(root)/var/lib/dpkg/info", withIntermediateDirectories: true)
            try FileManager.default.createDirectory(atPath: "\(root)/usr/sbin", withIntermediateDirectories: true)
            // A merged-/usr root whose dpkg lists the /usr/sbin spelling and an upstart-like
            // package shipping initctl; /sbin/start-stop-daemon is not listed, so not diverted.
            try Data("/usr/sbin/start-stop-daemon\n/usr/bin/dpkg\n".utf8).write(to: URL(fileURLWithPath: "\(root)/var/lib/dpkg/info/dpkg.list"))
            try Data("/sbin/initctl\n".utf8).write(to: URL(fileURLWithPath: "\(root)/var/lib/dpkg/info/upstart.list"))
            #expect(BuildDiversions.paths(inRoot: root) == ["/usr/sbin/start-stop-daemon", "/sbin/initctl"])
            #expect(BuildDiversions.paths(inRoot: dir.join("empty")) == [])

            try FileManager.default.createDirectory(atPath: "\(root)/sbin", withIntermediateDirectories: true)
            let runner = RecordingToolRunner()
            let logger = Logger(label: "test") { _ in SwiftLogNoOpLogHandler() }
            let paths = try await BuildDiversions.add(root: root, runner: runner, logger: logger)
            #expect(paths == ["/usr/sbin/start-stop-daemon", "/sbin/initctl"])
            #expect(try String(contentsOfFile: "\(root)/sbin/initctl", encoding: .utf8) == BuildDiversions.stub)
            #expect(BuildDiversions.stub.hasSuffix("exit 0\n"))
            let mode = try FileManager.default.attributesOfItem(atPath: "\(root)/usr/sbin/start-stop-daemon")[.posixPermissions] as? Int
            #expect(mode == 0o755)
            try await BuildDiversions.remove(paths, root: root, runner: runner, logger: logger)
            #expect(!FileManager.default.fileExists(atPath: "\(root)/sbin/initctl"))
            #expect(runner.commandLines == [
                "chroot \(root) dpkg-divert --quiet --local --rename --add /usr/sbin/start-stop-daemon",
                "chroot \(root) dpkg-divert --quiet --local --rename --add /sbin/initctl",
                "chroot \(root) dpkg-divert --quiet --local --rename --remove /sbin/initctl",
                "chroot \(root) dpkg-divert --quiet --local --rename --remove /usr/sbin/start-stop-daemon",
            ])
        }
    }

    @Test func chrootRunsNoninteractively() {
        let invocation = Chroot.aptGet(root: "/w/chroot", ["install", "openssh-server"])
        #expect(invocation.executable == "chroot")
        #expect(invocation.arguments.prefix(3) == ["/w/chroot", "apt-get", "--assume-yes"])
        #expect(invocation.arguments.suffix(2) == ["install", "openssh-server"])
        #expect(invocation.environment["DEBIAN_FRONTEND"] == "noninteractive")
        #expect(Chroot.shell(root: "/r", "echo hi").arguments == ["/r", "/bin/sh", "-c", "echo hi"])
    }

    @Test func mountInvocations() {
        #expect(Mount.tmpfs(at: "/w", size: "8G").commandLine == "mount -t tmpfs -o size=8G,mode=0755 icon-build /w")
        #expect(Mount.proc(at: "/w/chroot/proc").commandLine == "mount -t proc proc /w/chroot/proc")
        #expect(Mount.sysfs(at: "/c/sys").commandLine == "mount -t sysfs sysfs /c/sys")
        #expect(Mount.bind("/dev", at: "/c/dev").commandLine == "mount --bind /dev /c/dev")
        #expect(Mount.unmount("/c/dev").commandLine == "umount /c/dev")
        #expect(Mount.unmount("/c/dev", lazy: true).commandLine == "umount --lazy /c/dev")
    }

    @Test func stageCacheExtractKeepsOwnersAndXattrs() {
        let cache = StageCache(directory: "/var/cache/icon")
        let invocation = cache.extract(key: "abc", into: "/w/chroot")
        #expect(invocation.arguments.contains("/var/cache/icon/roots/abc.tar"))
        #expect(invocation.arguments.contains("--numeric-owner"))
        #expect(invocation.arguments.contains("--xattrs"))
    }
}
