import Foundation
import IconBoot
public import IconCore
public import Logging

/// Turns a directory into a hybrid ISO that boots with BIOS (El Torito, and the MBR when the
/// ISO is copied to a disk or USB stick) and with UEFI (El Torito and a GPT EFI system
/// partition), from the same pieces grub-mkrescue uses.
///
/// The builder assembles it itself rather than calling grub-mkrescue because grub-mkrescue
/// cannot be made reproducible: it formats its EFI image with a random serial, stamps files
/// with the current time and passes the current time as the volume date. Here every such
/// value comes from `sourceDateEpoch` when it is set, so the same tree gives the same bytes.
public struct HybridIso: Hashable, Sendable {
    /// The directory that becomes the ISO; GRUB's modules and boot images are added to it.
    public var tree: String
    /// A scratch directory for files that do not go into the ISO itself.
    public var scratch: String
    public var output: String
    public var volumeID: String
    public var sourceDateEpoch: Int?
    /// GRUB's platform directories (`i386-pc`, `x86_64-efi`).
    public var grubLibrary: String

    /// Where the BIOS El Torito image and the EFI FAT image sit inside the ISO.
    public static let biosImagePath = "boot/grub/i386-pc/eltorito.img"
    public static let efiImagePath = "boot/grub/efi.img"
    /// The GRUB platforms whose modules go into `/boot/grub/<platform>`.
    public static let platforms = ["i386-pc", "x86_64-efi"]

    public init(
        tree: String, scratch: String, output: String, volumeID: String, sourceDateEpoch: Int? = nil,
        grubLibrary: String = "/usr/lib/grub"
    ) {
        self.tree = tree
        self.scratch = scratch
        self.output = output
        self.volumeID = volumeID
        self.sourceDateEpoch = sourceDateEpoch
        self.grubLibrary = grubLibrary
    }

    /// The configuration built into the UEFI core. It boots from the FAT image, so it finds
    /// the ISO filesystem by its volume id (unique per image: it holds the timestamp).
    public var efiConfig: String {
        "search --no-floppy --set=root --label \(GrubQuote.word(volumeID))\nset prefix=($root)/boot/grub\n"
    }

    var efiLoader: String { "\(scratch)/BOOTX64.EFI" }
    var efiConfigPath: String { "\(scratch)/grub-efi.cfg" }
    var efiImage: String { "\(tree)/\(Self.efiImagePath)" }

    /// The commands that run after the GRUB files were copied, in order; `efiImageKiB` is the
    /// size of the FAT image (it depends on the loader's size, known only after grub-mkimage).
    public func invocations(efiImageKiB: Int) -> [ToolInvocation] {
        [
            GrubMkimage.biosElTorito(output: "\(tree)/\(Self.biosImagePath)", library: grubLibrary),
            GrubMkimage.efi(output: efiLoader, config: efiConfigPath, library: grubLibrary),
            FatImage.create(image: efiImage, kibibytes: efiImageKiB, sourceDateEpoch: sourceDateEpoch),
            FatImage.makeDirectories(image: efiImage, ["::/EFI", "::/EFI/BOOT"], sourceDateEpoch: sourceDateEpoch),
            FatImage.copy(efiLoader, image: efiImage, to: "::/EFI/BOOT/BOOTX64.EFI", sourceDateEpoch: sourceDateEpoch),
            Xorriso.hybridIso(
                tree: tree, output: output, volumeID: volumeID, biosImage: Self.biosImagePath,
                hybridMBR: "\(grubLibrary)/i386-pc/boot_hybrid.img", efiImage: Self.efiImagePath,
                sourceDateEpoch: sourceDateEpoch),
        ]
    }

    /// The FAT image size for a loader of `loaderBytes`: room for it and the FAT's own
    /// structures, at least a floppy's 1440 KiB.
    public static func efiImageKiB(loaderBytes: Int) -> Int {
        max(1440, (loaderBytes / 1024) * 5 / 4 + 256)
    }

    /// Copies GRUB's modules into the tree, makes the boot images and writes `output`.
    ///
    /// - Throws: `IconError.Code.notFound` naming the GRUB directory when a platform is not
    ///   installed, `.io` naming a file, `.toolFailed` naming the failing command.
    public func write(runner: any ToolRunner, logger: Logger) async throws {
        try copyGrubModules()
        try AtomicFile.write(Array(efiConfig.utf8), to: efiConfigPath)
        let steps = invocations(efiImageKiB: 0)
        // Both cores first: the FAT image's size depends on the UEFI loader's.
        for step in steps.prefix(2) { try await runner.checked(step, logger: logger) }
        let loaderBytes = (try? FileManager.default.attributesOfItem(atPath: efiLoader)[.size] as? Int) ?? 0
        if let sourceDateEpoch {
            // mcopy -m keeps this date in the FAT image.
            try setDate(of: efiLoader, to: sourceDateEpoch)
        }
        try? FileManager.default.removeItem(atPath: efiImage)
        for step in invocations(efiImageKiB: Self.efiImageKiB(loaderBytes: loaderBytes)).dropFirst(2) {
            try await runner.checked(step, logger: logger)
        }
    }

    /// Copies `*.mod` and `*.lst` of each platform to `/boot/grub/<platform>` in the tree:
    /// the cores load their modules (normal, linux, ...) from there at boot.
    func copyGrubModules() throws {
        for platform in Self.platforms {
            let source = "\(grubLibrary)/\(platform)"
            guard let names = try? FileManager.default.contentsOfDirectory(atPath: source) else {
                throw IconError(
                    .notFound, "GRUB's \(platform) files are missing in \(source): apt-get install grub-pc-bin grub-efi-amd64-bin")
            }
            let destination = "\(tree)/boot/grub/\(platform)"
            do {
                try FileManager.default.createDirectory(atPath: destination, withIntermediateDirectories: true)
                for name in names.sorted() where name.hasSuffix(".mod") || name.hasSuffix(".lst") {
                    try? FileManager.default.removeItem(atPath: "\(destination)/\(name)")
                    try FileManager.default.copyItem(atPath: "\(source)/\(name)", toPath: "\(destination)/\(name)")
                }
            } catch {
                throw IconError(.io, "cannot copy GRUB's \(platform) modules to \(destination)", cause: error)
            }
        }
    }

    private func setDate(of path: String, to epoch: Int) throws {
        do {
            try FileManager.default.setAttributes(
                [.modificationDate: Date(timeIntervalSince1970: TimeInterval(epoch))], ofItemAtPath: path)
        } catch {
            throw IconError(.io, "cannot set the date of \(path)", cause: error)
        }
    }
}
