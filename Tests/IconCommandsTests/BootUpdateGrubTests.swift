import Foundation
import IconBoot
import IconCore
import IconTestSupport
import Testing

@testable import IconCommands

@Suite struct BootUpdateGrubTests {
    @Test func writesTheMenuAndReports() async throws {
        try await withTemporaryDirectory { dir in
            let images = dir.join("boot/iconograph")
            try ManifestCommandsTests.copyDemoImages(into: images)
            try FileManager.default.createSymbolicLink(atPath: "\(images)/current", withDestinationPath: "1459629717.iso")
            let command = try BootUpdateGrub.parse(["--boot-dir", dir.join("boot"), "--image-dir", images])
            try await command.run()
            let text = try String(contentsOfFile: dir.join("boot/grub/grub.cfg"), encoding: .utf8)
            #expect(text.contains("\nset default=1\nset fallback=0\n"))
            let result = try BootMenuUpdater().update(bootDir: dir.join("boot"), imageDir: images)
            #expect(BootUpdateGrub.report(result) == [
                "0: 1700000000.iso (Iconograph 2023-11-14) [fallback]",
                "1: 1459629717.iso (ICON_DEMO_B) [default]",
                "2: 1459629471.iso (ICON_DEMO_A)",
                "wrote \(dir.join("boot/grub/grub.cfg")) with 3 entries",
            ])
        }
    }

    @Test func imageDirOutsideBootDirFails() async throws {
        try await withTemporaryDirectory { dir in
            try FileManager.default.createDirectory(atPath: dir.join("boot"), withIntermediateDirectories: true)
            try FileManager.default.createDirectory(atPath: dir.join("elsewhere"), withIntermediateDirectories: true)
            let command = try BootUpdateGrub.parse(["--boot-dir", dir.join("boot"), "--image-dir", dir.join("elsewhere")])
            let error = try await #require(throws: IconError.self) { try await command.run() }
            #expect(error.code == .invalidArgument)
            #expect(error.message.contains(dir.join("elsewhere")))
        }
    }
}
