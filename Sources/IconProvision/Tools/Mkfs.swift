public import IconCore

/// Invocations of the `mkfs.*` programs.
public enum Mkfs {
    /// An ext4 filesystem labelled `label`; `-F` because the target is a fresh partition.
    public static func ext4(device: String, label: String) -> ToolInvocation {
        ToolInvocation("mkfs.ext4", ["-q", "-F", "-L", label, device])
    }

    /// A FAT32 filesystem labelled `label`, for an EFI system partition.
    public static func vfat(device: String, label: String) -> ToolInvocation {
        ToolInvocation("mkfs.vfat", ["-F", "32", "-n", label, device])
    }
}
