import Foundation
import IconCore

/// Adds `nofail` mounts of labelled filesystems to the image's /etc/fstab.
///
/// fstab rather than `.mount` units: systemd-fstab-generator turns `nofail` into a Wants=
/// dependency without ordering, so the boot never waits for the drive; only units ordered
/// after the mount wait, for at most `x-systemd.device-timeout`.
public enum FstabMount {
    /// The device timeout when none is given: long enough for udev on a slow machine (under
    /// software emulation udevd starts well after systemd begins waiting), harmless as
    /// nothing in the boot waits for a `nofail` mount.
    public static let defaultDeviceTimeoutSeconds = 90

    /// The fstab line for `label` at `mountPoint`; with `atBoot` false (`noauto`) systemd
    /// mounts it only when a unit asks for it.
    public static func line(
        label: String, mountPoint: String, deviceTimeoutSeconds: Int = defaultDeviceTimeoutSeconds, atBoot: Bool = true
    ) -> String {
        "LABEL=\(label) \(mountPoint) auto defaults,\(atBoot ? "" : "noauto,")nofail,x-systemd.device-timeout=\(deviceTimeoutSeconds)s 0 2"
    }

    /// Replaces any line for `mountPoint` in /etc/fstab with the one for `label`, and creates
    /// the mount point.
    public static func add(
        label: String, mountPoint: String, deviceTimeoutSeconds: Int = defaultDeviceTimeoutSeconds, atBoot: Bool = true,
        to context: ModuleContext
    ) throws {
        let fstab = try context.hostPath("/etc/fstab")
        let old = (try? String(contentsOfFile: fstab, encoding: .utf8)) ?? ""
        var lines = old.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        if lines.last == "" { lines.removeLast() }
        lines.removeAll { line in
            let fields = line.split(whereSeparator: { $0 == " " || $0 == "\t" })
            return fields.count > 1 && !line.hasPrefix("#") && fields[1] == mountPoint
        }
        lines.append(self.line(label: label, mountPoint: mountPoint, deviceTimeoutSeconds: deviceTimeoutSeconds, atBoot: atBoot))
        try context.writeFile("/etc/fstab", text: lines.joined(separator: "\n") + "\n")
        try context.makeDirectory(mountPoint)
    }
}
