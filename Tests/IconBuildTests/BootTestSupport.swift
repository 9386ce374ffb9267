import Foundation
import IconCore

/// Helpers for the tests that build real images and boot them in QEMU.
enum BootTestSupport {
    /// Tools the real build and boot test needs, and the Debian package that brings each.
    static let requiredTools = [
        "mmdebstrap": "mmdebstrap", "mksquashfs": "squashfs-tools", "unsquashfs": "squashfs-tools",
        "xorriso": "xorriso", "grub-mkrescue": "grub-common (with grub-pc-bin, grub-efi-amd64-bin, mtools)",
        "qemu-system-x86_64": "qemu-system-x86", "tar": "tar", "chroot": "coreutils",
    ]

    /// The tools missing from PATH, as "tool (package)" strings.
    static func missingTools() -> [String] {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/sbin:/usr/bin:/sbin:/bin"
        let directories = path.split(separator: ":").map(String.init) + ["/usr/sbin", "/sbin"]
        return requiredTools.keys.sorted().filter { tool in
            !directories.contains { FileManager.default.isExecutableFile(atPath: "\($0)/\(tool)") }
        }.map { "\($0) (apt-get install \(requiredTools[$0]!))" }
    }

    /// Whether this process runs as root.
    static var isRoot: Bool { geteuid() == 0 }

    /// Whether the slow image tests were switched off with ICON_SKIP_IMAGE_TESTS=1.
    static var skippedByEnvironment: Bool {
        ProcessInfo.processInfo.environment["ICON_SKIP_IMAGE_TESTS"] == "1"
    }

    /// Boots `iso` in QEMU (software emulation, BIOS or UEFI), watching the serial console
    /// until `marker` appears or `timeout` passes. The VM is always killed before returning.
    ///
    /// - Returns: the console text and whether the marker was seen.
    static func boot(
        iso: String, uefi: Bool, memoryMiB: Int = 1536, marker: String = "login:",
        timeout: Duration = .seconds(420), workDirectory: String
    ) async throws -> (console: String, sawMarker: Bool) {
        let consolePath = "\(workDirectory)/console-\(uefi ? "uefi" : "bios").log"
        _ = FileManager.default.createFile(atPath: consolePath, contents: nil)
        var arguments = [
            "-machine", "accel=tcg", "-m", String(memoryMiB), "-smp", "1",
            "-display", "none", "-monitor", "none", "-no-reboot",
            "-serial", "file:\(consolePath)",
            "-drive", "file=\(iso),media=cdrom,readonly=on,format=raw", "-boot", "d",
            "-nic", "none",
        ]
        if uefi {
            let vars = "\(workDirectory)/OVMF_VARS.fd"
            try? FileManager.default.removeItem(atPath: vars)
            try FileManager.default.copyItem(atPath: "/usr/share/OVMF/OVMF_VARS_4M.fd", toPath: vars)
            arguments += [
                "-drive", "if=pflash,format=raw,readonly=on,file=/usr/share/OVMF/OVMF_CODE_4M.fd",
                "-drive", "if=pflash,format=raw,file=\(vars)",
            ]
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/qemu-system-x86_64")
        process.arguments = arguments
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        defer {
            if process.isRunning {
                process.terminate()
                process.waitUntilExit()
            }
        }
        let deadline = ContinuousClock.now + timeout
        var text = ""
        while ContinuousClock.now < deadline {
            text = (try? String(contentsOfFile: consolePath, encoding: .utf8)) ?? ""
            if text.contains(marker) { return (text, true) }
            if !process.isRunning { break }
            try await Task.sleep(for: .seconds(2))
        }
        return (text, false)
    }
}
