/// The boot-time pieces that give the agent a writable BOOT partition at /boot.
///
/// The outer GRUB boots the ISO with `findiso=`, so live-boot has already mounted the BOOT
/// partition read-only at /run/live/findiso to loop-mount the ISO from it. A second mount of
/// the same ext4 filesystem shares that superblock, so a plain `mount LABEL=BOOT /boot` would
/// come up read-only (or fail). The script therefore remounts /run/live/findiso read-write and
/// bind-mounts it at /boot when that mount is the BOOT filesystem, and only mounts LABEL=BOOT
/// itself when live-boot did not (for example an image booted from a plain CD).
public enum BootMount {
    /// Where the script goes in the image.
    public static let scriptPath = "/usr/local/lib/icon/mount-boot"
    /// The unit's file name under /etc/systemd/system.
    public static let unitName = "icon-boot-mount.service"

    public static let script = """
        #!/bin/sh
        # Written by icon module iconograph: BOOT read-write at /boot for `icon agent`.
        set -eu
        if mountpoint -q /boot; then
            mount -o remount,rw /boot
            exit 0
        fi
        findiso=/run/live/findiso
        if mountpoint -q "$findiso" && [ "$(blkid -s LABEL -o value "$(findmnt -n -o SOURCE "$findiso")")" = BOOT ]; then
            mount -o remount,rw "$findiso"
            mount --bind "$findiso" /boot
        else
            mount -o rw LABEL=BOOT /boot
        fi

        """

    public static let unit = """
        # Written by icon module iconograph: mounts the BOOT partition read-write at /boot.
        [Unit]
        Description=Mount the Iconograph BOOT partition read-write at /boot
        DefaultDependencies=no
        After=local-fs.target
        Before=icon-agent.service
        ConditionPathExists=/dev/disk/by-label/BOOT

        [Service]
        Type=oneshot
        RemainAfterExit=yes
        ExecStart=\(scriptPath)

        [Install]
        WantedBy=multi-user.target

        """
}
