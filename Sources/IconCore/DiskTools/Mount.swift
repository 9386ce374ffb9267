/// Invocations of `mount` and `umount`: a device on a directory (imaging a disk), the build's
/// work area and the chroot's kernel filesystems.
public enum Mount {
    /// Mounts `device` on `directory`, as filesystem `type` when given.
    public static func mount(device: String, on directory: String, type: String? = nil) -> ToolInvocation {
        var arguments: [String] = []
        if let type { arguments += ["-t", type] }
        return ToolInvocation("mount", arguments + [device, directory])
    }

    /// A tmpfs at `target`, sized `size` (e.g. `8G`, or a percentage of RAM like `75%`).
    public static func tmpfs(at target: String, size: String) -> ToolInvocation {
        ToolInvocation("mount", ["-t", "tmpfs", "-o", "size=\(size),mode=0755", "icon-build", target])
    }

    /// `/proc` of a chroot.
    public static func proc(at target: String) -> ToolInvocation {
        ToolInvocation("mount", ["-t", "proc", "proc", target])
    }

    /// `/sys` of a chroot.
    public static func sysfs(at target: String) -> ToolInvocation {
        ToolInvocation("mount", ["-t", "sysfs", "sysfs", target])
    }

    /// A bind mount of `source` (the host's `/dev`, `/dev/pts`) at `target`.
    public static func bind(_ source: String, at target: String) -> ToolInvocation {
        ToolInvocation("mount", ["--bind", source, target])
    }

    /// Unmounts `target`; `lazy` detaches it even while busy (the last resort in cleanup).
    public static func unmount(_ target: String, lazy: Bool = false) -> ToolInvocation {
        ToolInvocation("umount", lazy ? ["--lazy", target] : [target])
    }
}
