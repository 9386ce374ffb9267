import Foundation
import IconCore
import IconTestSupport
import Logging
import Testing

@testable import IconBuild

/// `--source-iso` for real: an ISO made by this builder is the source, the new image's root
/// has its own kernel and initrd deleted by a module (so only the source ISO can supply
/// them), and the result boots in QEMU with BIOS to a login prompt.
@Suite(.serialized) struct SourceIsoIntegrationTests {

    @Test(.imageTests, .tags(.imageBuild))
    func buildsWithTheKernelAndInitrdOfASourceISOAndBoots() async throws {
        let missing = BootTestSupport.missingTools()
        try #require(missing.isEmpty, "the image build test needs: \(missing.joined(separator: ", "))")
        try await withTemporaryDirectory(prefix: "icon-source-iso-test") { dir in
            let logger = Logger(label: "test") { _ in SwiftLogNoOpLogHandler() }
            let runner = SubprocessToolRunner()
            func options(timestamp: Int, modules: [String] = [], sourceISO: String? = nil) -> ImageBuildOptions {
                ImageBuildOptions(
                    imageDirectory: dir.join("images"), imageType: "test", release: "bookworm", flavor: .debian,
                    modules: modules, kernelArguments: ["console=ttyS0,115200"], timestamp: timestamp,
                    workDirectory: dir.path, workAreaSize: "4G", cacheDirectory: "/var/tmp/iconograph-test-cache",
                    sourceISO: sourceISO)
            }
            // scripts/test.sh already made one with `icon build-image`; else make one here.
            let source: String
            if let made = ProcessInfo.processInfo.environment["ICON_TEST_LIVE_ISO"],
                FileManager.default.fileExists(atPath: made)
            {
                source = made
            } else {
                source = try await ImageBuilder(
                    options: options(timestamp: 1_600_000_000), runner: runner, logger: logger,
                    hostSources: try AptSources.load()
                ).build().isoPath
            }

            let strip = #"/bin/sh -c 'rm -f "${0#--chroot-path=}"/boot/vmlinuz-* "${0#--chroot-path=}"/boot/initrd.img-*'"#
            let lines = LineCollector()
            let result = try await ImageBuilder(
                options: options(timestamp: 1_700_000_001, modules: [strip], sourceISO: source), runner: runner,
                logger: logger, hostSources: try AptSources.load(), report: { lines.append($0) }
            ).build()
            #expect(lines.lines.contains("    kernel /live/vmlinuz and initrd /live/initrd.img from \(source)"))

            // Kernel and initrd in the new ISO are the source ISO's, byte for byte.
            for file in ["/live/vmlinuz", "/live/initrd.img"] {
                let name = String(file.split(separator: "/").last!)
                try await runner.checked(Xorriso.extract(iso: source, path: file, to: dir.join("source-\(name)")), logger: logger)
                try await runner.checked(Xorriso.extract(iso: result.isoPath, path: file, to: dir.join("built-\(name)")), logger: logger)
                let expected = try FileHasher.sha256Hex(ofFileAt: dir.join("source-\(name)"))
                #expect(try FileHasher.sha256Hex(ofFileAt: dir.join("built-\(name)")) == expected, "\(file) differs")
            }

            let boot = try await BootTestSupport.boot(iso: result.isoPath, uefi: false, workDirectory: dir.path)
            #expect(boot.sawMarker, "BIOS: no login prompt on the serial console; last output:\n\(boot.console.suffix(3000))")
        }
    }
}
