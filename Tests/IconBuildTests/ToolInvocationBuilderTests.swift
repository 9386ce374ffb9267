import IconCore
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
    }

    @Test func grubMkrescuePassesVolumeIDToXorriso() throws {
        let invocation = GrubMkrescue.invocation(
            directory: "/w/iso", output: "/out/x.iso", volumeID: "ICON SERVER", sourceDateEpoch: 5)
        #expect(invocation.executable == "grub-mkrescue")
        #expect(invocation.arguments.first == "--output=/out/x.iso")
        let dashes = try #require(invocation.arguments.firstIndex(of: "--") as Int?)
        #expect(invocation.arguments[dashes - 1] == "/w/iso")
        #expect(Array(invocation.arguments[(dashes + 1)...]) == ["-volid", "ICON SERVER"])
        #expect(invocation.environment["SOURCE_DATE_EPOCH"] == "5")
    }

    @Test func xorrisoReadsWithoutMounting() {
        #expect(Xorriso.extract(iso: "/a.iso", path: "/live/vmlinuz", to: "/tmp/k").commandLine
            == "xorriso -osirrox on -indev /a.iso -extract /live/vmlinuz /tmp/k")
        #expect(Xorriso.pvdInfo(iso: "/a.iso").arguments == ["-indev", "/a.iso", "-pvd_info"])
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
