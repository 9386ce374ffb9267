import IconCore

/// Invocations of `mount` and `umount`.
public enum Mount {
    /// Mounts `device` on `directory`.
    public static func mount(device: String, on directory: String, type: String? = nil) -> ToolInvocation {
        var arguments: [String] = []
        if let type { arguments += ["-t", type] }
        return ToolInvocation("mount", arguments + [device, directory])
    }

    /// Unmounts `directory`.
    public static func unmount(_ directory: String) -> ToolInvocation {
        ToolInvocation("umount", [directory])
    }
}
