/// The `systemid` stock module: mounts LABEL=SYSTEMID at /systemid and sets the hostname
/// from /systemid/systemid at boot, before the network comes up.
public struct SystemIDModule: Sendable {
    public init() {}

    public static let mountScriptPath = "/usr/local/lib/icon/systemid-mount"
    public static let scriptPath = "/usr/local/lib/icon/systemid-hostname"
    public static let unitName = "icon-systemid-hostname.service"

    /// Mounts the drive when one is attached. systemd's own job for the fstab line gives up
    /// after a short device timeout (so a machine without the drive does not stall), and on
    /// a slow machine udev may not have named the drive by then; `udevadm settle` instead
    /// waits exactly until udev has handled the devices present at boot, and returns at once
    /// when its queue is empty, drive or no drive.
    public static let mountScript = """
        #!/bin/sh
        # Written by icon module systemid: mount the system identity drive when attached.
        set -eu
        udevadm settle --timeout=180 || true
        [ -e /dev/disk/by-label/SYSTEMID ] || exit 0
        # systemd's mount job may mount it at the same moment: losing that race is fine.
        mountpoint -q /systemid || mount /systemid || mountpoint -q /systemid

        """

    /// Reads the first line of the id file and makes it the hostname; an id that is not a
    /// valid hostname is ignored so a damaged drive cannot inject anything. Without a drive
    /// the image's own hostname stays.
    public static let script = """
        #!/bin/sh
        # Written by icon module systemid: hostname from the system identity drive.
        set -eu
        [ -r /systemid/systemid ] || exit 0
        id=$(head -n 1 /systemid/systemid | tr -d '[:space:]')
        case "$id" in
            ''|-*|*[!A-Za-z0-9.-]*) echo "ignoring invalid system id in /systemid/systemid" >&2; exit 0 ;;
        esac
        printf '%s\\n' "$id" > /etc/hostname
        hostname "$id"

        """

    public func apply(to context: ModuleContext) throws {
        // Short: sshd waits for systemid.mount (OpenSSHModule), and the mount script below
        // mounts a drive that udev names late.
        try FstabMount.add(label: "SYSTEMID", mountPoint: "/systemid", deviceTimeoutSeconds: 10, to: context)
        try context.writeFile(Self.mountScriptPath, text: Self.mountScript, mode: 0o755)
        try context.writeFile(Self.scriptPath, text: Self.script, mode: 0o755)
        let unit = try SystemdUnit.oneshot(
            description: "Set the hostname from the Iconograph system identity drive",
            command: [Self.scriptPath],
            preCommands: [[Self.mountScriptPath]],
            unitSection: [
                "DefaultDependencies=no",
                // udevd must run for `udevadm settle`; no RequiresMountsFor=/systemid, which
                // would tie the unit to systemd's short device timeout (see mountScript).
                "Wants=systemd-udevd.service network-pre.target",
                "After=systemd-udevd.service systemd-udev-trigger.service local-fs.target",
                "Before=network-pre.target sysinit.target",
            ],
            wantedBy: "sysinit.target")
        try context.writeFile("/etc/systemd/system/\(Self.unitName)", text: unit)
        try context.enableUnit(Self.unitName, wantedBy: "sysinit.target")
    }
}
