public import IconCore

/// GRUB installation for BIOS (`grub-install`) and UEFI (`grub-mkimage` plus mtools).
///
/// UEFI does not use `grub-install --target=x86_64-efi`: that needs the ESP mounted, and
/// kernels without vfat (containers, minimal builders) cannot. Instead GRUB's EFI image is
/// built with `grub-mkimage` and copied into the unmounted FAT filesystem with `mcopy`,
/// as `grub-install --removable --no-nvram` would place it: `EFI/BOOT/BOOTX64.EFI`.
public enum GrubInstall {
    /// Where Debian keeps GRUB's x86_64-efi modules.
    public static let efiModuleDirectory = "/usr/lib/grub/x86_64-efi"

    /// Modules built into `BOOTX64.EFI`: enough to find BOOT by label, read grub.cfg and boot
    /// an ISO by loopback (loadenv for the menu's grubenv); the rest is loaded from
    /// `<BOOT>/grub/x86_64-efi`.
    public static let efiModules = [
        "part_gpt", "part_msdos", "fat", "ext2", "search", "search_label", "search_fs_file",
        "configfile", "normal", "echo", "test", "loopback", "iso9660", "linux", "gzio", "all_video",
        "loadenv",
    ]

    /// Installs GRUB's i386-pc boot image into the MBR of `device` and its modules under
    /// `<bootDirectory>/grub`.
    public static func bios(device: String, bootDirectory: String) -> ToolInvocation {
        ToolInvocation("grub-install", ["--target=i386-pc", "--boot-directory=\(bootDirectory)", device])
    }

    /// The configuration embedded in `BOOTX64.EFI`: find the filesystem labelled BOOT and
    /// continue with its `grub/grub.cfg`.
    public static let efiEarlyConfig = """
        search --no-floppy --label --set=root BOOT
        set prefix=($root)/grub
        configfile $prefix/grub.cfg

        """

    /// Builds `BOOTX64.EFI` at `output` with ``efiEarlyConfig`` (stored at `configPath`).
    public static func efiImage(output: String, configPath: String) -> ToolInvocation {
        ToolInvocation(
            "grub-mkimage",
            ["--format=x86_64-efi", "--output=\(output)", "--prefix=/grub", "--config=\(configPath)"]
                + efiModules)
    }

    /// Makes the `EFI/BOOT` directories in the FAT filesystem on `espDevice`.
    public static func efiDirectories(espDevice: String) -> ToolInvocation {
        FatImage.makeDirectories(image: espDevice, ["::/EFI", "::/EFI/BOOT"])
    }

    /// Copies the built image to `EFI/BOOT/BOOTX64.EFI` on `espDevice`.
    public static func efiCopy(image: String, espDevice: String) -> ToolInvocation {
        FatImage.copy(image, image: espDevice, to: "::/EFI/BOOT/BOOTX64.EFI", keepingTime: false, overwriting: true)
    }
}
