import Foundation
import IconCore
import IconTestSupport
import Logging
import Testing

@testable import IconBuild

/// The pipeline with a fake runner: which commands run, in which order, what is written
/// into the root, and that mounts and the work area are undone on failure too.
@Suite struct ImageBuilderPipelineTests {
    static let host = AptSources(entries: [
        .init(uris: ["http://host.example/debian"], suites: ["bookworm"], components: ["main"])
    ])
    let logger = Logger(label: "test") { _ in SwiftLogNoOpLogHandler() }

    /// Makes what a bootstrapped root needs for the later stages to find.
    static func fakeRoot(at root: String) throws {
        for directory in ["usr/sbin", "sbin", "etc/apt", "boot", "var/lib/dpkg/info"] {
            try FileManager.default.createDirectory(atPath: "\(root)/\(directory)", withIntermediateDirectories: true)
        }
        _ = FileManager.default.createFile(atPath: "\(root)/boot/vmlinuz-6.1.0-1-amd64", contents: Data("kernel".utf8))
        _ = FileManager.default.createFile(atPath: "\(root)/boot/initrd.img-6.1.0-1-amd64", contents: Data("initrd".utf8))
        // dpkg ships start-stop-daemon in /sbin; nothing ships initctl.
        _ = FileManager.default.createFile(
            atPath: "\(root)/var/lib/dpkg/info/dpkg.list", contents: Data("/.\n/sbin\n/sbin/start-stop-daemon\n/usr/bin/dpkg\n".utf8))
        _ = FileManager.default.createFile(atPath: "\(root)/sbin/start-stop-daemon", contents: Data("real".utf8))
    }

    /// A fake runner that plays the tools' visible effects; `seen` records what modules found.
    static func fakeRunner(failModule: Bool = false, seen: LineCollector? = nil) -> RecordingToolRunner {
        RecordingToolRunner(respond: fakeTools(failModule: failModule, seen: seen))
    }

    /// The fake tools' answers, for runners that add tools of their own.
    static func fakeTools(
        failModule: Bool = false, seen: LineCollector? = nil
    ) -> @Sendable (ToolInvocation) throws -> ToolOutput {
        { invocation in
            let args = invocation.arguments
            switch invocation.executable {
            case "mmdebstrap":
                let index = try #require(args.firstIndex(of: "bookworm"))
                let path = args[index + 1]
                if path.hasSuffix(".tar") {
                    _ = FileManager.default.createFile(atPath: path, contents: Data("tar".utf8))
                } else {
                    try fakeRoot(at: path)
                }
            case "tar":
                let index = try #require(args.firstIndex(of: "--directory"))
                try fakeRoot(at: args[index + 1])
            case "/bin/sh":
                let command = args[1]
                let chroot = String(command.split(separator: "=").last!)
                let policy = (try? String(contentsOfFile: "\(chroot)/usr/sbin/policy-rc.d", encoding: .utf8)) ?? ""
                let info = (try? String(contentsOfFile: "\(chroot)/etc/iconograph.json", encoding: .utf8)) ?? ""
                let daemon = (try? String(contentsOfFile: "\(chroot)/sbin/start-stop-daemon", encoding: .utf8)) ?? ""
                seen?.append(
                    "policy:\(policy.contains("exit 101")) info:\(info.contains("\"image_type\" : \"server\"")) "
                        + "stub:\(daemon == BuildDiversions.stub)")
                if failModule { return ToolOutput(exitCode: 7, standardError: "module broke") }
            case "grub-mkimage":
                let output = try #require(args.first { $0.hasPrefix("--output=") }).dropFirst("--output=".count)
                _ = FileManager.default.createFile(atPath: String(output), contents: Data("core".utf8))
            case "xorriso":
                let index = try #require(args.firstIndex(of: "-o"))
                _ = FileManager.default.createFile(atPath: args[index + 1], contents: Data("iso".utf8))
            default:
                break
            }
            return ToolOutput(exitCode: 0)
        }
    }

    func options(_ dir: TemporaryDirectory, cache: Bool = false) -> ImageBuildOptions {
        ImageBuildOptions(
            imageDirectory: dir.join("images"), imageType: "server", release: "bookworm", flavor: .debian,
            modules: ["/opt/mod --x=1"], kernelArguments: ["console=ttyS0"], timestamp: 1_700_000_000,
            workDirectory: dir.path, workAreaSize: "1G", cacheDirectory: cache ? dir.join("cache") : nil)
    }

    @Test func theImageGetsItsOwnHostnameNotTheBuildHosts() {
        #expect(ImageBuilder.defaultHostname(imageType: "kiosk") == "kiosk")
        #expect(ImageBuilder.defaultHostname(imageType: "Lab-Robot2") == "lab-robot2")
        #expect(ImageBuilder.defaultHostname(imageType: "lab robot") == "iconograph")
        #expect(ImageBuilder.defaultHostname(imageType: "-x") == "iconograph")
        #expect(ImageBuilder.defaultHostname(imageType: "ünï") == "iconograph")
        #expect(ImageBuilder.defaultHostname(imageType: String(repeating: "a", count: 64)) == "iconograph")
    }

    @Test func runsTheStagesInOrderAndCleansUp() async throws {
        try await withTemporaryDirectory { dir in
            let seen = LineCollector()
            let runner = Self.fakeRunner(seen: seen)
            let stages = LineCollector()
            let builder = ImageBuilder(
                options: options(dir), runner: runner, logger: logger, hostSources: Self.host,
                report: { stages.append($0) })
            let result = try await builder.build()

            let names = runner.invocations.map { ([$0.executable] + $0.arguments.prefix(2)).joined(separator: " ") }
            let work = try #require(runner.invocations.first?.arguments.last)
            #expect(work.hasPrefix(dir.path + "/icon-build-"))
            #expect(names == [
                "mount -t tmpfs",
                "mmdebstrap --variant=minbase --architectures=amd64",
                "mount -t proc", "mount -t sysfs", "mount --bind /dev", "mount --bind /dev/pts",
                "chroot \(work)/chroot dpkg-divert",
                "/bin/sh -c /opt/mod --x=1 --chroot-path=\(work)/chroot",
                "chroot \(work)/chroot dpkg-divert",
                "chroot \(work)/chroot apt-get", "chroot \(work)/chroot /bin/sh",
                "umount \(work)/chroot/dev/pts", "umount \(work)/chroot/dev", "umount \(work)/chroot/sys",
                "umount \(work)/chroot/proc",
                "mksquashfs \(work)/chroot \(work)/iso/live/filesystem.squashfs",
                "grub-mkimage --directory=/usr/lib/grub/i386-pc --format=i386-pc-eltorito",
                "grub-mkimage --directory=/usr/lib/grub/x86_64-efi --format=x86_64-efi",
                "mkfs.fat -C -n", "mmd -i \(work)/iso/boot/grub/efi.img", "mcopy -m -i",
                "xorriso -as mkisofs",
                "umount \(work)",
            ])
            // The module ran with policy-rc.d and the start-stop-daemon stub in place and
            // /etc/iconograph.json written; the diversion was added before and removed after.
            #expect(seen.lines == ["policy:true info:true stub:true"])
            let diverts = runner.invocations.filter { $0.arguments.dropFirst().first == "dpkg-divert" }.map(\.arguments)
            #expect(diverts == [
                ["\(work)/chroot", "dpkg-divert", "--quiet", "--local", "--rename", "--add", "/sbin/start-stop-daemon"],
                ["\(work)/chroot", "dpkg-divert", "--quiet", "--local", "--rename", "--remove", "/sbin/start-stop-daemon"],
            ])
            #expect(result.isoPath == dir.join("images/server/1700000000.iso"))
            #expect(FileManager.default.fileExists(atPath: result.isoPath))
            #expect(!FileManager.default.fileExists(atPath: result.isoPath + ".partial"))
            #expect(result.size == 3)
            #expect(result.volumeID == "ICON_SERVER_1700000000")
            #expect(!result.usedCache)
            #expect(result.stages.map(\.name) == [
                "work area", "bootstrap", "prepare chroot", "module /opt/mod --x=1", "clean chroot",
                "kernel and initrd", "squashfs", "grub config", "iso",
            ])
            #expect(stages.lines.contains("==> squashfs"))
            #expect(!FileManager.default.fileExists(atPath: work))
        }
    }

    @Test func aFailingModuleStillUnmountsEverythingAndRemovesTheWorkArea() async throws {
        try await withTemporaryDirectory { dir in
            let runner = Self.fakeRunner(failModule: true)
            let builder = ImageBuilder(options: options(dir), runner: runner, logger: logger, hostSources: Self.host)
            let error = try await #require(throws: IconError.self) { try await builder.build() }
            #expect(error.code == .toolFailed)
            #expect(error.message.contains("/opt/mod --x=1"))
            #expect(error.message.contains("module broke"))
            let work = try #require(runner.invocations.first?.arguments.last)
            let unmounts = runner.invocations.filter { $0.executable == "umount" }.map { $0.arguments.last! }
            #expect(unmounts == ["\(work)/chroot/dev/pts", "\(work)/chroot/dev", "\(work)/chroot/sys", "\(work)/chroot/proc", work])
            #expect(!runner.invocations.contains { $0.executable == "mksquashfs" })
            #expect(!FileManager.default.fileExists(atPath: work))
            #expect(!FileManager.default.fileExists(atPath: dir.join("images/server/1700000000.iso")))
        }
    }

    @Test func theStageCacheIsFilledOnceAndReused() async throws {
        try await withTemporaryDirectory { dir in
            let first = Self.fakeRunner()
            let firstResult = try await ImageBuilder(
                options: options(dir, cache: true), runner: first, logger: logger, hostSources: Self.host
            ).build()
            #expect(!firstResult.usedCache)
            let bootstrap = try #require(first.invocations.first { $0.executable == "mmdebstrap" })
            #expect(bootstrap.arguments.contains { $0.hasSuffix(".partial.tar") })
            #expect(bootstrap.arguments.contains("--customize-hook=sync-out /var/cache/apt/archives \(dir.path)/cache/debs"))
            #expect(FileManager.default.fileExists(atPath: dir.join("cache/debs")))
            let roots = try FileManager.default.contentsOfDirectory(atPath: dir.join("cache/roots"))
            #expect(roots.count == 1)
            #expect(roots.first?.hasSuffix(".tar") == true && roots.first?.hasSuffix(".partial.tar") == false)

            let second = Self.fakeRunner()
            var changed = options(dir, cache: true)
            changed.modules = ["/opt/other"]
            changed.timestamp = 1_700_000_001
            let secondResult = try await ImageBuilder(
                options: changed, runner: second, logger: logger, hostSources: Self.host
            ).build()
            #expect(secondResult.usedCache)
            #expect(!second.invocations.contains { $0.executable == "mmdebstrap" })
            #expect(second.invocations.contains { $0.executable == "tar" })
        }
    }

    @Test func badOptionsFailBeforeAnythingRuns() async throws {
        try await withTemporaryDirectory { dir in
            let runner = Self.fakeRunner()
            var bad = options(dir)
            bad.flavor = .ubuntu
            bad.release = "noble"
            let error = try await #require(throws: IconError.self) {
                try await ImageBuilder(options: bad, runner: runner, logger: logger, hostSources: Self.host).build()
            }
            #expect(error.code == .invalidArgument)
            #expect(runner.invocations.isEmpty)
        }
    }
}
