public import IconCore

/// Invocations of `parted` (GNU parted) in script mode.
public enum Parted {
    /// Writes a new partition table with every partition of `layout` in one run.
    ///
    /// GPT partitions get the role as their name; on msdos the BOOT partition gets the
    /// boot flag (some BIOSes only boot a disk with an active partition).
    public static func partition(device: String, layout: PartitionLayout) -> ToolInvocation {
        var arguments = ["--script", "--align", "optimal", device, "mklabel", layout.label]
        for partition in layout.partitions {
            let type = partition.role == .esp ? "fat32" : "ext4"
            if layout.label == "gpt" {
                arguments += ["mkpart", partition.role.rawValue, type, partition.start, partition.end]
            } else {
                arguments += ["mkpart", "primary", type, partition.start, partition.end]
            }
            switch partition.role {
            case .biosGrub: arguments += ["set", "\(partition.number)", "bios_grub", "on"]
            case .esp: arguments += ["set", "\(partition.number)", "esp", "on"]
            case .boot where layout.label == "msdos": arguments += ["set", "\(partition.number)", "boot", "on"]
            default: break
            }
        }
        return ToolInvocation("parted", arguments)
    }

    /// Prints the partition table in machine-readable form, sizes in bytes.
    public static func print(device: String) -> ToolInvocation {
        ToolInvocation("parted", ["--script", "--machine", device, "unit", "B", "print"])
    }
}
