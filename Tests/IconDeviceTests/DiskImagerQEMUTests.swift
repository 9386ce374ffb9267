import Foundation
import IconCore
@testable import IconProvision
import IconTestSupport
import Testing


/// The live ISO to boot, from `ICON_TEST_LIVE_ISO` (an ISO made by `icon build-image` whose
/// kernel arguments include `console=ttyS0` and whose modules include `persistent` and
/// `systemid`); the tests are skipped without one.
private let liveISO: String? = {
    guard let path = ProcessInfo.processInfo.environment["ICON_TEST_LIVE_ISO"],
        FileManager.default.fileExists(atPath: path)
    else { return nil }
    return path
}()

/// OVMF's firmware code and its variable store template (Debian's `ovmf` package).
private let ovmfCode = "/usr/share/OVMF/OVMF_CODE_4M.fd"
private let ovmfVars = "/usr/share/OVMF/OVMF_VARS_4M.fd"

/// Images disk files from a loopback server with a real live ISO, then boots them in QEMU
/// (software emulation): the outer GRUB menu, the ISO through loopback, the live system to
/// its login prompt on the serial console. Each boot takes a minute or two, so each one
/// proves several things.
@Suite(
    "Imaged disk boots in QEMU", .serialized,
    .enabled(if: liveISO != nil, "needs ICON_TEST_LIVE_ISO, the live ISO scripts/test.sh builds with icon build-image"),
    .requiresRoot("loop devices and mounts"), DiskTools.required,
    .requiresExecutable("qemu-system-x86_64", package: "qemu-system-x86"), .tags(.qemu, .loopDevices))
struct DiskImagerQEMUTests {
    /// BIOS, msdos layout, with a system identity drive from `icon systemid image` attached
    /// as the second disk: the `systemid` module mounts it and the login prompt shows the
    /// drive's id as the hostname.
    @Test(.timeLimit(.minutes(TestTiming.minutes(15))))
    func imagedDiskBootsToLoginPromptWithSystemIDHostname() async throws {
        let iso = try #require(liveISO)
        try await FetchEnvironment.with { env in
            let disk = try await Self.imageDisk(iso: iso, firmware: .bios, env: env)
            let database = SystemIDDatabase(directory: env.temp.join("systemid-db"))
            let drive = env.temp.join("systemid.img")
            try DiskTools.sparseDisk(at: drive, megabytes: 32)
            let made = try await SystemIDImager(
                device: drive, database: database, confirm: { _ in true }, temporaryDirectory: env.temp.path
            ).run()
            // The id the test expects is the one the database handed out, read back from it.
            let id = try #require(try database.ids().last)
            #expect(id == made.id)

            let console = try await Self.boot(disk: disk, drives: [drive], uefi: false, until: "login:", seconds: 600)
            #expect(console.found, "no login prompt (BIOS); console tail:\n\(console.text.suffix(3000))")
            #expect(console.text.contains("Linux"))
            #expect(Self.loginHostnames(console.text).contains(id), "hostname is not the system id \(id); console tail:\n\(console.text.suffix(3000))")
        }
    }

    /// `--firmware both` (GPT with bios_grub, ESP and BOOT): OVMF starts the ESP's
    /// `EFI/BOOT/BOOTX64.EFI`, whose early config finds BOOT by label and reads the outer
    /// menu; the live system comes up with the image's own hostname, as no SYSTEMID drive is
    /// attached. The same disk then boots with BIOS (GRUB's core image in bios_grub).
    @Test(.timeLimit(.minutes(TestTiming.minutes(25))), .enabled(if: FileManager.default.fileExists(atPath: ovmfCode) && FileManager.default.fileExists(atPath: ovmfVars), "needs OVMF for the UEFI boot (apt-get install ovmf)"))
    func bothFirmwaresDiskBootsWithUEFIAndBIOS() async throws {
        let iso = try #require(liveISO)
        try await FetchEnvironment.with { env in
            let disk = try await Self.imageDisk(iso: iso, firmware: .both, env: env)
            let expected = try await Self.imageHostname(iso: iso, work: env.temp.path)

            let uefi = try await Self.boot(disk: disk, drives: [], uefi: true, until: "login:", seconds: 900)
            #expect(uefi.found, "no login prompt (UEFI); console tail:\n\(uefi.text.suffix(3000))")
            #expect(Self.loginHostnames(uefi.text) == [expected], "console tail:\n\(uefi.text.suffix(3000))")

            let bios = try await Self.boot(disk: disk, drives: [], uefi: false, until: "login:", seconds: 600)
            #expect(bios.found, "no login prompt (BIOS on GPT); console tail:\n\(bios.text.suffix(3000))")
            #expect(Self.loginHostnames(bios.text) == [expected])
        }
    }

    /// Serves `iso` and images a fresh 1 GiB disk file from it with `firmware` (a quarter
    /// PERSISTENT), as `icon image` does; returns the disk file.
    static func imageDisk(iso: String, firmware: Firmware, env: FetchEnvironment) async throws -> String {
        let timestamp = Int((iso as NSString).lastPathComponent.dropLast(4)) ?? 1_700_000_000
        try await Self.copyCheckingMenuTimeout(iso: iso, to: "\(env.serverDir)/\(timestamp).iso", work: env.temp.path)
        try env.publish(manifestTimestamp: 2_000_000_000)
        let disk = env.temp.join("disk.img")
        try DiskTools.sparseDisk(at: disk, megabytes: 1024)
        _ = try await DiskImageServer.with(env) { port in
            let configuration = DiskImagerConfiguration(
                device: disk, persistentPercent: 25, firmware: firmware,
                fetch: env.configuration(port: port, path: "image/\(DiskImageServer.imageType)"),
                confirm: { _ in true }, temporaryDirectory: env.temp.path)
            return try await DiskImager(configuration: configuration).run()
        }
        return disk
    }

    /// Copies `iso`, after checking its inner menu counts down by itself: GRUB unsets
    /// `timeout` when the outer menu boots an entry and `configfile` starts a new context, so
    /// an inner `loopback.cfg` without its own `set timeout` would wait for a key forever.
    static func copyCheckingMenuTimeout(iso: String, to destination: String, work: String) async throws {
        let config = "\(work)/loopback.cfg"
        try await DiskTools.run("xorriso", ["-osirrox", "on", "-indev", iso, "-extract", "/boot/grub/loopback.cfg", config])
        let text = try String(contentsOfFile: config, encoding: .utf8)
        #expect(text.contains("set timeout="), "the ISO's loopback.cfg sets no timeout")
        try FileManager.default.copyItem(atPath: iso, toPath: destination)
    }

    /// The image's own hostname: the first line of `/etc/hostname` in the ISO's squashfs.
    static func imageHostname(iso: String, work: String) async throws -> String {
        let squashfs = "\(work)/filesystem.squashfs"
        defer { try? FileManager.default.removeItem(atPath: squashfs) }
        try await DiskTools.run("xorriso", ["-osirrox", "on", "-indev", iso, "-extract", "/live/filesystem.squashfs", squashfs])
        let text = try await DiskTools.run("unsquashfs", ["-cat", squashfs, "etc/hostname"])
        return String(text.split(separator: "\n").first ?? "").trimmingCharacters(in: .whitespaces)
    }

    /// The hostnames in the console's `<hostname> login:` prompts, in order.
    static func loginHostnames(_ console: String) -> [String] {
        console.split(whereSeparator: \.isNewline).compactMap { line in
            guard let range = line.range(of: " login:") else { return nil }
            // Only the hostname characters just before the prompt: a line may start with
            // other console output or terminal escapes.
            let name = line[..<range.lowerBound].reversed().prefix { $0.isLetter || $0.isNumber || $0 == "." || $0 == "-" }
            return name.isEmpty ? nil : String(name.reversed())
        }
    }

    /// Boots `disk` (with `drives` as further disks) in QEMU, with BIOS or with UEFI (OVMF and
    /// a fresh copy of its variable store), killed by `timeout` after `seconds` whatever
    /// happens here; polls its serial console log until `marker` appears or QEMU ends, then
    /// kills QEMU by the pid it wrote. QEMU runs through the tool runner, not Foundation's
    /// `Process`.
    static func boot(
        disk: String, drives: [String], uefi: Bool, until marker: String, seconds: Int
    ) async throws -> (found: Bool, text: String, timedOut: Bool) {
        let log = disk + (uefi ? ".uefi" : ".bios") + ".console.log"
        let pidFile = disk + ".qemu.pid"
        try? FileManager.default.removeItem(atPath: log)
        try? FileManager.default.removeItem(atPath: pidFile)
        var arguments = [
            "--kill-after=5", "\(TestTiming.seconds(seconds))", "qemu-system-x86_64", "-machine", "accel=tcg", "-m", "1536", "-smp", "1",
            "-display", "none", "-monitor", "none", "-no-reboot", "-nic", "none", "-serial", "file:\(log)",
            "-pidfile", pidFile,
        ]
        for file in [disk] + drives {
            arguments += ["-drive", "file=\(file),format=raw,if=ide"]
        }
        if uefi {
            let vars = disk + ".OVMF_VARS.fd"
            try? FileManager.default.removeItem(atPath: vars)
            try FileManager.default.copyItem(atPath: ovmfVars, toPath: vars)
            arguments += [
                "-drive", "if=pflash,format=raw,readonly=on,file=\(ovmfCode)",
                "-drive", "if=pflash,format=raw,file=\(vars)",
            ]
        }
        let invocation = ToolInvocation("timeout", arguments)
        let finished = Locked(false)
        let qemu = Task {
            defer { finished.mutate { $0 = true } }
            return try await DiskTools.runner.run(invocation, logger: DiskTools.logger)
        }
        var text = ""
        while !finished.value {
            text = String(decoding: FileManager.default.contents(atPath: log) ?? Data(), as: UTF8.self)
            if text.contains(marker) { break }
            try await Task.sleep(for: .seconds(1))
        }
        if let pidText = try? String(contentsOfFile: pidFile, encoding: .utf8),
            let pid = Int32(pidText.trimmingCharacters(in: .whitespacesAndNewlines)), !finished.value
        {
            kill(pid, SIGKILL)
        }
        // `timeout` exits 124 when it had to stop QEMU: the boot did not finish in time.
        let timedOut = (try? await qemu.value)?.exitCode == 124
        text = String(decoding: FileManager.default.contents(atPath: log) ?? Data(), as: UTF8.self)
        return (text.contains(marker), text, timedOut)
    }
}
