import Foundation
import IconCore
import IconTestSupport
import Logging

/// Helpers for the tests that build real images and boot them in QEMU.
enum BootTestSupport {
    /// Tools the real build and boot test needs, and the Debian package that brings each.
    static let requiredTools = [
        "mmdebstrap": "mmdebstrap", "mksquashfs": "squashfs-tools", "unsquashfs": "squashfs-tools",
        "xorriso": "xorriso", "grub-mkimage": "grub-common grub-pc-bin grub-efi-amd64-bin",
        "mkfs.fat": "dosfstools", "mcopy": "mtools", "mmd": "mtools",
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

    /// Boots `iso` in QEMU (software emulation, BIOS or UEFI), watching the serial console
    /// until `marker` appears or `timeoutSeconds` pass. A shell script owns the VM so it is
    /// always killed, whatever happens to the test.
    ///
    /// - Returns: the console text and whether the marker was seen.
    static func boot(
        iso: String, uefi: Bool, memoryMiB: Int = 1536, marker: String = "login:",
        timeoutSeconds: Int = 420, workDirectory: String
    ) async throws -> (console: String, sawMarker: Bool) {
        let consolePath = "\(workDirectory)/console-\(uefi ? "uefi" : "bios").log"
        var qemu = [
            "qemu-system-x86_64", "-machine", "accel=tcg", "-m", String(memoryMiB), "-smp", "1",
            "-display", "none", "-monitor", "none", "-no-reboot",
            "-serial", "file:\(consolePath)",
            "-drive", "file=\(iso),media=cdrom,readonly=on,format=raw", "-boot", "d",
            "-nic", "none",
        ]
        if uefi {
            let vars = "\(workDirectory)/OVMF_VARS.fd"
            try? FileManager.default.removeItem(atPath: vars)
            try FileManager.default.copyItem(atPath: "/usr/share/OVMF/OVMF_VARS_4M.fd", toPath: vars)
            qemu += [
                "-drive", "if=pflash,format=raw,readonly=on,file=/usr/share/OVMF/OVMF_CODE_4M.fd",
                "-drive", "if=pflash,format=raw,file=\(vars)",
            ]
        }
        let script = """
            : > \(ShellQuote.quote(consolePath))
            \(qemu.map(ShellQuote.quote).joined(separator: " ")) &
            vm=$!
            trap 'kill $vm 2>/dev/null; wait $vm 2>/dev/null' EXIT
            i=0
            while [ $i -lt \(TestTiming.seconds(timeoutSeconds)) ]; do
                if grep -aq \(ShellQuote.quote(marker)) \(ShellQuote.quote(consolePath)); then exit 0; fi
                kill -0 $vm 2>/dev/null || exit 3
                sleep 2; i=$((i + 2))
            done
            exit 2
            """
        let output = try await SubprocessToolRunner().run(
            ToolInvocation("/bin/sh", ["-c", script]), logger: Logger(label: "test") { _ in SwiftLogNoOpLogHandler() })
        let data = FileManager.default.contents(atPath: consolePath) ?? Data()
        return (String(decoding: data, as: UTF8.self), output.exitCode == 0)
    }
}
