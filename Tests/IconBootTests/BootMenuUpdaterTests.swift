import Foundation
import IconCore
import IconTestSupport
import Testing

@testable import IconBoot

#if canImport(Glibc)
import Glibc
#endif

@Suite struct BootMenuUpdaterTests {
    static let demoTimestamps = [1_459_629_471, 1_459_629_717, 1_700_000_000]

    static func makeBootDir(_ dir: TemporaryDirectory, current: String? = "1459629717.iso") throws -> String {
        let images = dir.join("boot/iconograph")
        try FileManager.default.createDirectory(atPath: images, withIntermediateDirectories: true)
        for timestamp in demoTimestamps {
            try FileManager.default.copyItem(atPath: CompatVectors.path("images/demo/\(timestamp).iso"), toPath: "\(images)/\(timestamp).iso")
        }
        if let current {
            try FileManager.default.createSymbolicLink(atPath: "\(images)/current", withDestinationPath: current)
        }
        return images
    }

    @Test func matchesTheOriginalExceptTheFallback() async throws {
        try await withTemporaryDirectory { dir in
            let images = try Self.makeBootDir(dir)
            // Noise the scan must not list.
            try Data("x".utf8).write(to: URL(fileURLWithPath: "\(images)/manifest.json"))
            try Data("x".utf8).write(to: URL(fileURLWithPath: "\(images)/.1800000000.iso.tmp"))
            let result = try BootMenuUpdater().update(bootDir: dir.join("boot"), imageDir: images)
            #expect(result.configPath == dir.join("boot/grub/grub.cfg"))
            let ours = try String(contentsOfFile: result.configPath, encoding: .utf8)
            let original = try String(contentsOfFile: CompatVectors.path("boot/grub/grub.cfg.original"), encoding: .utf8)
            // Differences from the original, all additions for boot safety except one fix:
            // the boot-safety header before the entries, `--id icon-<timestamp>` on each
            // entry, the grubenv overrides after the settings; and the original writes
            // `fallback=1` (the default) where entry 0 is the real fallback.
            let header = GrubMenu.bootSafetyHeader()
            #expect(ours.hasPrefix(header))
            let overrides = "if [ -n \"$icon_boot\" ]; then\n  set default=\"icon-$icon_boot\"\nfi\n"
                + "if [ -n \"$icon_good\" ]; then\n  set fallback=\"icon-$icon_good\"\nfi\n"
            #expect(ours.hasSuffix(overrides))
            var stripped = String(ours.dropFirst(header.count).dropLast(overrides.count))
            for timestamp in Self.demoTimestamps {
                stripped = stripped.replacingOccurrences(of: " --id icon-\(timestamp) {", with: " {")
            }
            #expect(stripped == original.replacingOccurrences(of: "set fallback=1\n", with: "set fallback=0\n"))
            #expect(ours != original)
            let mode = try FileManager.default.attributesOfItem(atPath: result.configPath)[.posixPermissions] as? Int
            #expect(mode == 0o644)
        }
    }

    @Test func relativePathsAndTrailingSlashesWork() async throws {
        try await withTemporaryDirectory { dir in
            _ = try Self.makeBootDir(dir, current: nil)
            let result = try BootMenuUpdater().update(bootDir: dir.join("boot/"), imageDir: dir.join("boot/./iconograph/"))
            #expect(result.menu.pathPrefix == "/iconograph")
            #expect(result.menu.defaultIndex == 0)
            #expect(result.menu.fallbackIndex == 1)
        }
    }

    @Test func imageDirOutsideBootDirIsRefused() async throws {
        try await withTemporaryDirectory { dir in
            _ = try Self.makeBootDir(dir)
            try FileManager.default.createDirectory(atPath: dir.join("other"), withIntermediateDirectories: true)
            for imageDir in [dir.join("other"), dir.join("boot"), dir.join("boot/../other"), dir.join("bootx")] {
                do {
                    _ = try BootMenuUpdater().update(bootDir: dir.join("boot"), imageDir: imageDir)
                    Issue.record("expected a refusal for \(imageDir)")
                } catch let error as IconError {
                    #expect(error.code == .invalidArgument)
                    #expect(error.message.contains(imageDir))
                }
            }
            #expect(!FileManager.default.fileExists(atPath: dir.join("boot/grub/grub.cfg")))
        }
    }

    @Test("a FIFO named <digits>.iso is skipped unopened, and the menu is written")
    func aFIFONamedLikeAnImageIsSkipped() async throws {
        try await withTemporaryDirectory { dir in
            let images = try Self.makeBootDir(dir)
            try #require(mkfifo("\(images)/1800000000.iso", 0o644) == 0)
            try FileManager.default.createDirectory(atPath: "\(images)/1900000000.iso", withIntermediateDirectories: true)
            // A stale temp file of a killed earlier write goes; this process's own would stay.
            try FileManager.default.createDirectory(atPath: dir.join("boot/grub"), withIntermediateDirectories: true)
            let stale = dir.join("boot/grub/.grub.cfg.tmp-\(try ExitedProcess.pid())-AbC123")
            try Data("partial".utf8).write(to: URL(fileURLWithPath: stale))
            let result = try BootMenuUpdater().update(bootDir: dir.join("boot"), imageDir: images)
            #expect(result.notFiles == [
                GrubMenu.Skipped(fileName: "1800000000.iso", reason: "it is a FIFO, not a regular file"),
                GrubMenu.Skipped(fileName: "1900000000.iso", reason: "it is a directory, not a regular file"),
            ])
            #expect(result.menu.entries.count == 3)
            #expect(!(try String(contentsOfFile: result.configPath, encoding: .utf8)).contains("1800000000"))
            #expect(!FileManager.default.fileExists(atPath: stale))
        }
    }


    @Test func damagedIsoKeepsItsEntryWithoutALabel() async throws {
        try await withTemporaryDirectory { dir in
            let images = try Self.makeBootDir(dir)
            try Data(repeating: 0, count: 100).write(to: URL(fileURLWithPath: "\(images)/1800000000.iso"))
            let result = try BootMenuUpdater().update(bootDir: dir.join("boot"), imageDir: images)
            #expect(result.unreadable == ["1800000000.iso"])
            let text = try String(contentsOfFile: result.configPath, encoding: .utf8)
            #expect(text.contains("menuentry \"1800000000.iso\" --hotkey=0 --id icon-1800000000 {"))
            #expect(text.contains("set default=2\nset fallback=0\n"))
        }
    }

    @Test func hostileVolumeIDsInRealISOs() async throws {
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/xorriso") else {
            Issue.record("xorriso is not installed (apt-get install xorriso): cannot build hostile test ISOs")
            return
        }
        try await withTemporaryDirectory { dir in
            let images = dir.join("boot/iconograph")
            let content = dir.join("content")
            try FileManager.default.createDirectory(atPath: images, withIntermediateDirectories: true)
            try FileManager.default.createDirectory(atPath: content, withIntermediateDirectories: true)
            try Data("hi\n".utf8).write(to: URL(fileURLWithPath: "\(content)/a"))
            let hostile = ["x\" ; reboot; echo \"", "$(reboot)\\", "a\nmenuentry \"e\" {"]
            for (index, label) in hostile.enumerated() {
                let process = Process()
                process.executableURL = URL(fileURLWithPath: "/usr/bin/xorriso")
                process.arguments = ["-as", "mkisofs", "-quiet", "-V", label, "-o", "\(images)/\(100 + index).iso", content]
                process.standardError = FileHandle.nullDevice
                process.standardOutput = FileHandle.nullDevice
                try process.run()
                process.waitUntilExit()
                try #require(process.terminationStatus == 0)
            }
            let result = try BootMenuUpdater().update(bootDir: dir.join("boot"), imageDir: images)
            let text = try String(contentsOfFile: result.configPath, encoding: .utf8)
            let lines = text.split(separator: "\n").filter { $0.hasPrefix("menuentry") }
            #expect(lines.count == 3)
            for line in lines {
                let words = try #require(GrubScript.words(String(line)))
                #expect(words.count == 6)
            }
            let titles = lines.compactMap { GrubScript.words(String($0))?[1] }
            #expect(titles == ["102.iso (amenuentry \"e\" {)", "101.iso ($(reboot)\\)", "100.iso (x\" ; reboot; echo \")"])
        }
    }

    /// The start of a Debian host's /boot/grub/grub.cfg as grub-mkconfig writes it.
    static let debianMenu = """
        #
        # DO NOT EDIT THIS FILE
        #
        # It is automatically generated by grub-mkconfig using templates
        # from /etc/grub.d and settings from /etc/default/grub
        #

        ### BEGIN /etc/grub.d/00_header ###
        if [ -s $prefix/grubenv ]; then
          set have_grubenv=true
          load_env
        fi
        menuentry 'Debian GNU/Linux' --class debian --class gnu-linux --class gnu --class os {
        	linux	/vmlinuz-6.1.0-18-amd64 root=UUID=0b1c ro quiet
        }

        """

    @Test func aHostsOwnMenuIsNeverReplaced() async throws {
        try await withTemporaryDirectory { dir in
            let images = try Self.makeBootDir(dir)
            let grub = dir.join("boot/grub")
            try FileManager.default.createDirectory(atPath: grub, withIntermediateDirectories: true)
            try Data(Self.debianMenu.utf8).write(to: URL(fileURLWithPath: "\(grub)/grub.cfg"))
            let error = try #require(throws: IconError.self) {
                try BootMenuUpdater().update(bootDir: dir.join("boot"), imageDir: images)
            }
            #expect(error.code == .invalidArgument)
            #expect(error.message.hasPrefix("\(grub)/grub.cfg was not written by Iconograph"))
            #expect(error.message.contains("grub-mkconfig"))
            #expect(error.message.contains("--boot-dir must be an Iconograph BOOT partition"))
            // Byte for byte as it was, and nothing beside it (no temp file, no grubenv).
            #expect(try Data(contentsOf: URL(fileURLWithPath: "\(grub)/grub.cfg")) == Data(Self.debianMenu.utf8))
            #expect(try FileManager.default.contentsOfDirectory(atPath: grub) == ["grub.cfg"])
        }
    }

    @Test func itsOwnMenuAndMarkedPartitionsAreRewritten() async throws {
        try await withTemporaryDirectory { dir in
            let images = try Self.makeBootDir(dir)
            let boot = dir.join("boot")
            // No menu yet (a fresh BOOT partition), then our own menu: both are written.
            _ = try BootMenuUpdater().update(bootDir: boot, imageDir: images)
            _ = try BootMenuUpdater().update(bootDir: boot, imageDir: images)
            // A menu the original Iconograph wrote (an old disk) is ours too.
            let original = try String(contentsOfFile: CompatVectors.path("boot/grub/grub.cfg.original"), encoding: .utf8)
            #expect(GrubMenu.isIconographMenu(original))
            try Data(original.utf8).write(to: URL(fileURLWithPath: "\(boot)/grub/grub.cfg"))
            _ = try BootMenuUpdater().update(bootDir: boot, imageDir: images)
            // Anything else only with the marker `icon image` leaves on the BOOT partitions it makes.
            try Data(Self.debianMenu.utf8).write(to: URL(fileURLWithPath: "\(boot)/grub/grub.cfg"))
            expectIconError(.invalidArgument) { try BootMenuUpdater().update(bootDir: boot, imageDir: images) }
            try BootMenuUpdater.writeMarker(bootDir: boot)
            #expect(FileManager.default.fileExists(atPath: "\(boot)/\(BootMenuUpdater.markerFileName)"))
            let result = try BootMenuUpdater().update(bootDir: boot, imageDir: images)
            #expect(GrubMenu.isIconographMenu(try String(contentsOfFile: result.configPath, encoding: .utf8)))
        }
    }

    @Test func ownMenusAreRecognisedByTheirHeader() throws {
        let menu = try GrubMenu(
            entries: [GrubMenu.Entry(timestamp: 1, fileName: "1.iso", volumeID: "V")], current: nil, pathPrefix: "/iconograph")
        #expect(GrubMenu.isIconographMenu(menu.render()))
        #expect(GrubMenu.isIconographMenu(GrubMenu.bootSafetyHeader()))
        #expect(!GrubMenu.isIconographMenu(Self.debianMenu))
        #expect(!GrubMenu.isIconographMenu(""))
        #expect(!GrubMenu.isIconographMenu("set timeout=5\n" + menu.render()))
    }
}
