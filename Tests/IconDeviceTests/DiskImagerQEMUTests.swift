import Foundation
import IconCore
import IconTestSupport
import Testing

@testable import IconDevice

/// The live ISO to boot, from `ICON_TEST_LIVE_ISO` (an ISO made by `icon build-image` whose
/// kernel arguments include `console=ttyS0`); the test is skipped without one.
private let liveISO: String? = {
    guard let path = ProcessInfo.processInfo.environment["ICON_TEST_LIVE_ISO"],
        FileManager.default.fileExists(atPath: path)
    else { return nil }
    return path
}()

/// Images a disk file from a loopback server with a real live ISO, then boots it in QEMU
/// (software emulation, BIOS): the outer GRUB menu, the ISO through loopback, the live
/// system to its login prompt on the serial console.
@Suite(
    "Imaged disk boots in QEMU", .serialized,
    .enabled(if: liveISO != nil && DiskTools.available && FileManager.default.isExecutableFile(atPath: "/usr/bin/qemu-system-x86_64")))
struct DiskImagerQEMUTests {
    @Test(.timeLimit(.minutes(10)))
    func imagedDiskBootsToLoginPrompt() async throws {
        let iso = try #require(liveISO)
        try await FetchEnvironment.with { env in
            let timestamp = Int((iso as NSString).lastPathComponent.dropLast(4)) ?? 1_700_000_000
            try await Self.copyCheckingMenuTimeout(iso: iso, to: "\(env.serverDir)/\(timestamp).iso", work: env.temp.path)
            try env.publish(manifestTimestamp: 2_000_000_000)
            let disk = env.temp.join("disk.img")
            try DiskTools.sparseDisk(at: disk, megabytes: 1024)
            _ = try await DiskImageServer.with(env) { port in
                let configuration = DiskImagerConfiguration(
                    device: disk, persistentPercent: 25, firmware: .bios, fetch: env.configuration(port: port, path: "image/\(DiskImageServer.imageType)"),
                    confirm: { _ in true }, temporaryDirectory: env.temp.path)
                return try await DiskImager(configuration: configuration).run()
            }
            let console = try await Self.boot(disk: disk, until: "login:", seconds: 420)
            #expect(console.found, "no login prompt; console tail:\n\(console.text.suffix(3000))")
            #expect(console.text.contains("Linux"))
        }
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

    /// Boots `disk` in QEMU (killed by `timeout` after `seconds` whatever happens here) and
    /// polls its serial console log until `marker` appears or QEMU ends; then kills QEMU by
    /// the pid it wrote. QEMU runs through the tool runner, not Foundation's `Process`.
    static func boot(disk: String, until marker: String, seconds: Int) async throws -> (found: Bool, text: String) {
        let log = disk + ".console.log"
        let pidFile = disk + ".qemu.pid"
        let invocation = ToolInvocation(
            "timeout",
            [
                "--kill-after=5", "\(seconds)", "qemu-system-x86_64", "-machine", "accel=tcg", "-m", "1536", "-smp", "1",
                "-display", "none", "-monitor", "none", "-no-reboot", "-serial", "file:\(log)", "-pidfile", pidFile,
                "-drive", "file=\(disk),format=raw,if=ide",
            ])
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
        _ = await qemu.result
        text = String(decoding: FileManager.default.contents(atPath: log) ?? Data(), as: UTF8.self)
        return (text.contains(marker), text)
    }
}
