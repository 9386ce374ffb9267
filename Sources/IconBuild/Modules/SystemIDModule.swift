/// The `systemid` stock module: mounts LABEL=SYSTEMID at /systemid and sets the hostname
/// from /systemid/systemid at boot, before the network comes up.
public struct SystemIDModule: Sendable {
    public init() {}

    public static let mountScriptPath = "/usr/local/lib/icon/systemid-mount"
    public static let scriptPath = "/usr/local/lib/icon/systemid-hostname"
    public static let unitName = "icon-systemid-hostname.service"

    /// Mounts the drive when one is attached (its fstab line is `noauto`). Not a device
    /// timeout, which a slow machine's udev can miss (seen under software emulation) and which
    /// a machine without the drive would sit out: `udevadm settle` waits exactly until udev
    /// has handled the devices present at boot, and returns at once when its queue is empty.
    public static let mountScript = """
        #!/bin/sh
        # Written by icon module systemid: mount the system identity drive when attached.
        set -eu
        udevadm settle --timeout=180 || true
        [ -e /dev/disk/by-label/SYSTEMID ] || exit 0
        # A unit asking for /systemid may have it mounted at the same moment: losing that race is fine.
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
        // noauto: the mount script below mounts it at boot; systemd's own boot-time job would
        // only time out (with red console lines) whenever udev is slower than its timeout.
        // Units that ask for /systemid later wait at most 10 s when no drive is attached.
        try FstabMount.add(label: "SYSTEMID", mountPoint: "/systemid", deviceTimeoutSeconds: 10, atBoot: false, to: context)
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
