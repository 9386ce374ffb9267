public import IconCore

/// Invocations of `losetup`, to treat a disk image file as a block device.
public enum Losetup {
    /// Attaches `file` to the first free loop device with partition scanning; prints the
    /// device (e.g. `/dev/loop3`).
    public static func attach(file: String) -> ToolInvocation {
        ToolInvocation("losetup", ["--partscan", "--find", "--show", file])
    }

    /// Detaches `device`.
    public static func detach(device: String) -> ToolInvocation {
        ToolInvocation("losetup", ["--detach", device])
    }

    /// Lists the loop devices `file` is attached to (`/dev/loop0: []: (file)` lines).
    public static func associated(file: String) -> ToolInvocation {
        ToolInvocation("losetup", ["--associated", file])
    }

    /// The loop devices named in the output of ``associated(file:)``.
    public static func devices(fromAssociated output: String) -> [String] {
        output.split(separator: "\n").compactMap { line in
            guard let colon = line.firstIndex(of: ":") else { return nil }
            return String(line[..<colon])
        }
    }
}
