public import IconCore

/// Invocations of `grub-mkimage`, which makes the GRUB core images the ISO boots.
///
/// GRUB writes a fixed timestamp into its images, so the same modules give the same bytes.
public enum GrubMkimage {
    /// The BIOS El Torito core: loads its modules and grub.cfg from `/boot/grub` on the
    /// medium it booted from.
    public static func biosElTorito(output: String, library: String = "/usr/lib/grub") -> ToolInvocation {
        ToolInvocation(
            "grub-mkimage",
            ["--directory=\(library)/i386-pc", "--format=i386-pc-eltorito", "--prefix=/boot/grub",
             "--output=\(output)", "biosdisk", "iso9660"])
    }

    /// The UEFI core (`BOOTX64.EFI`): it starts on the EFI system partition, so its embedded
    /// `config` searches the ISO filesystem and points the prefix there.
    public static func efi(output: String, config: String, library: String = "/usr/lib/grub") -> ToolInvocation {
        ToolInvocation(
            "grub-mkimage",
            ["--directory=\(library)/x86_64-efi", "--format=x86_64-efi", "--prefix=/boot/grub",
             "--config=\(config)", "--output=\(output)",
             "iso9660", "part_gpt", "part_msdos", "search", "search_label"])
    }
}
