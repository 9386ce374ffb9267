import IconCore
import Testing

@testable import IconBuild

@Suite struct FlavorTests {
    @Test(arguments: ["buster", "bullseye", "bookworm", "trixie", "sid"])
    func debianReleasesAreDebian(release: String) throws {
        #expect(try Flavor.choose(release: release) == .debian)
    }

    @Test(arguments: ["trusty", "focal", "jammy", "noble"])
    func ubuntuReleasesAreUbuntu(release: String) throws {
        #expect(try Flavor.choose(release: release) == .ubuntu)
    }

    @Test func explicitFlavorWinsAndUnknownReleaseNamesTheFlag() throws {
        #expect(try Flavor.choose(release: "bookworm", explicit: .ubuntu) == .ubuntu)
        #expect(try Flavor.choose(release: "my-derivative", explicit: .debian) == .debian)
        let error = try #require(throws: IconError.self) { try Flavor.choose(release: "my-derivative") }
        #expect(error.code == .invalidArgument)
        #expect(error.message.contains("--flavor"))
        #expect(error.message.contains("my-derivative"))
    }

    @Test func debianSuitesComponentsAndPackages() {
        #expect(Flavor.debian.suites(release: "bookworm") == ["bookworm", "bookworm-updates", "bookworm-security"])
        #expect(Flavor.debian.suites(release: "sid") == ["sid"])
        #expect(Flavor.debian.components == ["main"])
        let packages = Flavor.debian.basePackages(arch: "amd64")
        #expect(packages.contains("linux-image-amd64"))
        #expect(packages.contains("live-boot"))
        #expect(packages.contains("systemd-sysv"))
        #expect(Flavor.debian.basePackages(arch: "arm64").contains("linux-image-arm64"))
        #expect(Flavor.debian.isSecuritySuite("bookworm-security"))
        #expect(!Flavor.debian.isSecuritySuite("bookworm-updates"))
    }

    @Test func ubuntuSuitesComponentsAndPackages() {
        #expect(Flavor.ubuntu.suites(release: "noble") == ["noble", "noble-updates"])
        #expect(Flavor.ubuntu.components == ["main", "restricted", "universe", "multiverse"])
        let packages = Flavor.ubuntu.basePackages(arch: "amd64")
        for name in ["casper", "linux-generic", "ubuntu-minimal", "ubuntu-standard", "user-setup", "nano"] {
            #expect(packages.contains(name), "missing \(name)")
        }
        #expect(!packages.contains("live-boot"))
    }

    @Test func bootPaths() {
        #expect(Flavor.debian.kernelPath == "/live/vmlinuz")
        #expect(Flavor.debian.initrdPath == "/live/initrd.img")
        #expect(Flavor.debian.squashfsPath == "/live/filesystem.squashfs")
        #expect(Flavor.debian.bootArguments == ["boot=live"])
        #expect(Flavor.debian.isoScanArgument == "findiso=${iso_path}")
        #expect(Flavor.ubuntu.kernelPath == "/casper/vmlinuz")
        #expect(Flavor.ubuntu.initrdPath == "/casper/initrd")
        #expect(Flavor.ubuntu.squashfsPath == "/casper/filesystem.squashfs")
        #expect(Flavor.ubuntu.bootArguments == ["boot=casper"])
        #expect(Flavor.ubuntu.isoScanArgument == "iso-scan/filename=${iso_path}")
    }
}
