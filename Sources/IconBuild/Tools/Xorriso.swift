import Foundation
public import IconCore

/// Invocations of `xorriso`: writing the hybrid ISO, and reading ISOs without mounting them.
public enum Xorriso {
    /// Extracts `path` inside `iso` to `destination` on disk.
    public static func extract(iso: String, path: String, to destination: String) -> ToolInvocation {
        ToolInvocation("xorriso", ["-osirrox", "on", "-indev", iso, "-extract", path, destination])
    }

    /// Prints the volume id of `iso` (in the `Volume id` line of `-pvd_info`).
    public static func pvdInfo(iso: String) -> ToolInvocation {
        ToolInvocation("xorriso", ["-indev", iso, "-pvd_info"])
    }

    /// Lists every file in `iso`, one quoted path per line (`-find / -type f`).
    public static func listFiles(iso: String) -> ToolInvocation {
        ToolInvocation("xorriso", ["-indev", iso, "-find", "/", "-type", "f"])
    }

    /// Writes `tree` as a hybrid ISO that boots with BIOS and UEFI, the layout grub-mkrescue
    /// makes (minus its HFS+ part for old Macs).
    ///
    /// BIOS: GRUB's El Torito image (`biosImage`, a path inside the tree) with GRUB's boot
    /// info, and `hybridMBR` (`boot_hybrid.img`) so a disk or USB stick copy boots too.
    /// UEFI: the FAT image `efiImage` (inside the tree) as a second El Torito entry and as a
    /// GPT EFI system partition.
    ///
    /// - Parameter sourceDateEpoch: when set, the volume dates, the date-derived GPT disk GUID
    ///   and the dates of every file in the ISO are pinned to it; otherwise xorriso takes the
    ///   current time and a random GUID.
    public static func hybridIso(
        tree: String, output: String, volumeID: String, biosImage: String, hybridMBR: String,
        efiImage: String, sourceDateEpoch: Int? = nil
    ) -> ToolInvocation {
        var arguments = ["-as", "mkisofs", "-o", output, "-V", volumeID, "-iso-level", "3", "-r"]
        var environment: [String: String] = [:]
        if let sourceDateEpoch {
            let date = isoDate(sourceDateEpoch)
            arguments += [
                "--modification-date=\(date)", "--set_all_file_dates", date,
                "--gpt_disk_guid", "modification-date",
            ]
            // Also pins what the options above do not name (xorriso's "now").
            environment["SOURCE_DATE_EPOCH"] = String(sourceDateEpoch)
        }
        arguments += [
            "-b", biosImage, "-no-emul-boot", "-boot-load-size", "4", "-boot-info-table", "--grub2-boot-info",
            "--grub2-mbr", hybridMBR,
            "-eltorito-alt-boot", "-e", efiImage, "-no-emul-boot", "-efi-boot-part", "--efi-boot-image",
            "--protective-msdos-label",
            tree,
        ]
        return ToolInvocation("xorriso", arguments, environment: environment)
    }

    /// `epoch` as xorriso's `YYYYMMDDhhmmsscc` (UTC), the form `--modification-date=` takes.
    public static func isoDate(_ epoch: Int) -> String {
        var time = time_t(epoch)
        var parts = tm()
        gmtime_r(&time, &parts)
        return String(
            format: "%04d%02d%02d%02d%02d%02d00", Int(parts.tm_year) + 1900, Int(parts.tm_mon) + 1,
            Int(parts.tm_mday), Int(parts.tm_hour), Int(parts.tm_min), Int(parts.tm_sec))
    }
}
