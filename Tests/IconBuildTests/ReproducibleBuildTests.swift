import Foundation
import IconCore
import IconTestSupport
import Logging
import Testing

@testable import IconBuild

/// Two real builds with the same inputs, the same warm stage cache and `SOURCE_DATE_EPOCH`
/// must give byte-identical ISOs, although they run at different times in different work
/// directories and a module writes a file (whose build-time mtime must be pinned too).
@Suite(.serialized) struct ReproducibleBuildTests {

    @Test(.imageTests, .tags(.imageBuild))
    func twoBuildsWithSourceDateEpochGiveByteIdenticalIsos() async throws {
        let missing = BootTestSupport.missingTools()
        try #require(missing.isEmpty, "the image build test needs: \(missing.joined(separator: ", "))")
        try await withTemporaryDirectory(prefix: "icon-repro-test") { dir in
            let logger = Logger(label: "test") { _ in SwiftLogNoOpLogHandler() }
            var digests: [String] = []
            for run in ["first", "second"] {
                // The same image directory name in each run, so the inputs are truly the same.
                let images = dir.join("\(run)/images")
                let options = ImageBuildOptions(
                    imageDirectory: images, imageType: "test", release: "bookworm", flavor: .debian,
                    modules: [#"/bin/sh -c 'echo built > "${0#--chroot-path=}/etc/icon-repro-test"'"#],
                    kernelArguments: ["console=ttyS0,115200"], timestamp: 1_700_000_000,
                    workDirectory: dir.join(run), workAreaSize: "4G",
                    cacheDirectory: "/var/tmp/iconograph-test-cache", sourceDateEpoch: 1_700_000_000)
                try FileManager.default.createDirectory(atPath: dir.join(run), withIntermediateDirectories: true)
                let result = try await ImageBuilder(
                    options: options, runner: SubprocessToolRunner(), logger: logger,
                    hostSources: try AptSources.load()
                ).build()
                #expect(result.usedCache, "the test cache at /var/tmp/iconograph-test-cache should be warm")
                digests.append(try FileHasher.sha256Hex(ofFileAt: result.isoPath))
                // Wall-clock time must not matter: let it move past a FAT (2 s) and ISO (1 s) tick.
                try await Task.sleep(for: .seconds(3))
            }
            let first = dir.join("first/images/test/1700000000.iso")
            let second = dir.join("second/images/test/1700000000.iso")
            if digests[0] != digests[1] {
                let diff = try await SubprocessToolRunner().run(
                    ToolInvocation("/bin/sh", ["-c", "cmp -l \(ShellQuote.quote(first)) \(ShellQuote.quote(second)) | head -20"]),
                    logger: logger)
                Issue.record("the ISOs differ; first differing bytes (offset, octal values):\n\(diff.standardOutput)")
            }
            #expect(digests[0] == digests[1])
            // The pinned dates really are the epoch: the ISO's volume date and the module's file.
            let pvd = try await SubprocessToolRunner().checked(Xorriso.pvdInfo(iso: first), logger: logger)
            #expect(pvd.standardOutput.contains("Creation Time: 2023111422132000"), "volume dates: \(pvd.standardOutput)")
            let squashfs = dir.join("fs.squashfs")
            try await SubprocessToolRunner().checked(
                Xorriso.extract(iso: first, path: "/live/filesystem.squashfs", to: squashfs), logger: logger)
            let listing = try await SubprocessToolRunner().checked(
                ToolInvocation("unsquashfs", ["-lls", squashfs, "etc/icon-repro-test"], environment: ["TZ": "UTC"]),
                logger: logger)
            #expect(listing.standardOutput.contains("2023-11-14 22:13 squashfs-root/etc/icon-repro-test"),
                    "the module's file is not dated at the epoch:\n\(listing.standardOutput)")
        }
    }
}
