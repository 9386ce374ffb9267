public import IconCore

/// Invocations that fill a FAT filesystem without mounting it (dosfstools and mtools): the small
/// image holding an ISO's UEFI boot loader, and a disk's EFI system partition.
public enum FatImage {
    /// Creates `image`, `kibibytes` large. With `sourceDateEpoch` the serial number (else
    /// random) comes from it and `--invariant` fixes mkfs.fat's other time-derived values.
    public static func create(image: String, kibibytes: Int, sourceDateEpoch: Int? = nil) -> ToolInvocation {
        var arguments = ["-C", "-n", "ICONEFI"]
        if let sourceDateEpoch {
            arguments = ["--invariant", "-i", serial(sourceDateEpoch)] + arguments
        }
        return ToolInvocation("mkfs.fat", arguments + [image, String(kibibytes)])
    }

    /// Makes `directories` (`::/EFI`, in order) in `image`.
    public static func makeDirectories(image: String, _ directories: [String], sourceDateEpoch: Int? = nil) -> ToolInvocation {
        ToolInvocation("mmd", ["-i", image] + directories, environment: environment(sourceDateEpoch))
    }

    /// Copies `file` to `destination` (`::/EFI/BOOT/BOOTX64.EFI`) in `image`: keeping its mtime
    /// (`-m`, for reproducible ISOs) unless `keepingTime` is false, replacing an existing file
    /// (`-o`, for re-imaging a disk) when `overwriting`.
    public static func copy(
        _ file: String, image: String, to destination: String, keepingTime: Bool = true, overwriting: Bool = false,
        sourceDateEpoch: Int? = nil
    ) -> ToolInvocation {
        let flags = (overwriting ? ["-o"] : []) + (keepingTime ? ["-m"] : [])
        return ToolInvocation("mcopy", flags + ["-i", image, file, destination], environment: environment(sourceDateEpoch))
    }

    /// The volume serial for `epoch`: its low 32 bits in hex.
    public static func serial(_ epoch: Int) -> String {
        String(UInt32(truncatingIfNeeded: epoch), radix: 16)
    }

    /// mtools dates new directories from `SOURCE_DATE_EPOCH` when it is set.
    private static func environment(_ sourceDateEpoch: Int?) -> [String: String] {
        sourceDateEpoch.map { ["SOURCE_DATE_EPOCH": String($0)] } ?? [:]
    }
}
