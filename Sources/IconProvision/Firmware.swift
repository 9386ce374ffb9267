/// Which firmware a disk made by ``DiskImager`` boots with.
public enum Firmware: String, Sendable, CaseIterable {
    /// Legacy BIOS: an msdos partition table and GRUB's i386-pc boot image in the MBR.
    case bios
    /// UEFI only: a GPT with an EFI system partition holding `EFI/BOOT/BOOTX64.EFI`.
    case uefi
    /// Both: a GPT with a 1 MiB `bios_grub` partition (for GRUB's i386-pc core image)
    /// and an EFI system partition, so the same disk boots either way.
    case both

    /// Whether GRUB for i386-pc is installed.
    public var bios: Bool { self != .uefi }
    /// Whether an ESP with GRUB for x86_64-efi is made.
    public var uefi: Bool { self != .bios }
}
