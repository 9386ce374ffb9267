/// The `systemid` stock module: mounts LABEL=SYSTEMID at /systemid and sets the hostname
/// from /systemid/systemid at boot, before the network comes up.
public struct SystemIDModule: Sendable {
    public init() {}

    public static let scriptPath = "/usr/local/lib/icon/systemid-hostname"
    public static let unitName = "icon-systemid-hostname.service"

    /// Reads the first line of the id file and makes it the hostname; an id that is not a
    /// valid hostname is ignored so a damaged drive cannot inject anything.
    public static let script = """
        #!/bin/sh
        # Written by icon module systemid: hostname from the system identity drive.
        set -eu
        id=$(head -n 1 /systemid/systemid | tr -d '[:space:]')
        case "$id" in
            ''|-*|*[!A-Za-z0-9.-]*) echo "ignoring invalid system id in /systemid/systemid" >&2; exit 0 ;;
        esac
        printf '%s\\n' "$id" > /etc/hostname
        hostname "$id"

        """

    public func apply(to context: ModuleContext) throws {
        try FstabMount.add(label: "SYSTEMID", mountPoint: "/systemid", to: context)
        try context.writeFile(Self.scriptPath, text: Self.script, mode: 0o755)
        let unit = try SystemdUnit.oneshot(
            description: "Set the hostname from the Iconograph system identity drive",
            command: [Self.scriptPath],
            unitSection: [
                "DefaultDependencies=no",
                "RequiresMountsFor=/systemid",
                "After=local-fs.target",
                "Before=network-pre.target sysinit.target",
                "Wants=network-pre.target",
                "ConditionPathExists=/systemid/systemid",
            ],
            wantedBy: "sysinit.target")
        try context.writeFile("/etc/systemd/system/\(Self.unitName)", text: unit)
        try context.enableUnit(Self.unitName, wantedBy: "sysinit.target")
    }
}
