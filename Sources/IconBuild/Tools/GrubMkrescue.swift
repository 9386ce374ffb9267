import IconCore

/// Invocations of `grub-mkrescue`, which turns a directory into a hybrid ISO that boots with
/// BIOS (El Torito + MBR, i386-pc) and with UEFI (an EFI system partition image, x86_64-efi).
/// It drives `xorriso` underneath; arguments after `--` are native xorriso commands.
public enum GrubMkrescue {
    /// Makes `output` from `directory` with the ISO volume id `volumeID`.
    ///
    /// - Parameter sourceDateEpoch: when set, the ISO's dates and UUID are pinned (via xorriso's
    ///   own `SOURCE_DATE_EPOCH` support) so the same tree gives the same bytes.
    public static func invocation(
        directory: String, output: String, volumeID: String, sourceDateEpoch: Int? = nil
    ) -> ToolInvocation {
        var environment: [String: String] = [:]
        if let sourceDateEpoch { environment["SOURCE_DATE_EPOCH"] = String(sourceDateEpoch) }
        let arguments = [
            "--output=\(output)",
            "--compress=xz",
            directory,
            "--",
            "-volid", volumeID,
        ]
        return ToolInvocation("grub-mkrescue", arguments, environment: environment)
    }
}

/// Invocations of `xorriso` for reading an ISO without mounting it.
public enum Xorriso {
    /// Extracts `path` inside `iso` to `destination` on disk.
    public static func extract(iso: String, path: String, to destination: String) -> ToolInvocation {
        ToolInvocation("xorriso", ["-osirrox", "on", "-indev", iso, "-extract", path, destination])
    }

    /// Prints the volume id of `iso` (in the `Volume id` line of `-pvd_info`).
    public static func pvdInfo(iso: String) -> ToolInvocation {
        ToolInvocation("xorriso", ["-indev", iso, "-pvd_info"])
    }
}
