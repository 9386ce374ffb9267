import IconBoot
import IconCore
import Testing

/// The one FAT/mtools helper writes exactly the words each of its two users wrote before:
/// the ISO's EFI image (mtime kept, for reproducible builds) and a disk's ESP (overwritten).
struct FatImageTests {
    @Test func theISOsCopyKeepsTheFileTime() {
        let invocation = FatImage.copy("/w/BOOTX64.EFI", image: "/w/efi.img", to: "::/EFI/BOOT/BOOTX64.EFI", sourceDateEpoch: 1_700_000_000)
        #expect(invocation.executable == "mcopy")
        #expect(invocation.arguments == ["-m", "-i", "/w/efi.img", "/w/BOOTX64.EFI", "::/EFI/BOOT/BOOTX64.EFI"])
        #expect(invocation.environment == ["SOURCE_DATE_EPOCH": "1700000000"])
    }

    @Test func grubInstallsESPWordsAreUnchanged() {
        let directories = GrubInstall.efiDirectories(espDevice: "/dev/loop0p1")
        #expect(directories.executable == "mmd")
        #expect(directories.arguments == ["-i", "/dev/loop0p1", "::/EFI", "::/EFI/BOOT"])
        #expect(directories.environment.isEmpty)
        let copy = GrubInstall.efiCopy(image: "/tmp/BOOTX64.EFI", espDevice: "/dev/loop0p1")
        #expect(copy.executable == "mcopy")
        #expect(copy.arguments == ["-o", "-i", "/dev/loop0p1", "/tmp/BOOTX64.EFI", "::/EFI/BOOT/BOOTX64.EFI"])
        #expect(copy.environment.isEmpty)
    }
}
