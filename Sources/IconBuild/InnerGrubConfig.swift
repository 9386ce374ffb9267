import IconBoot

/// The GRUB configuration inside a built ISO.
///
/// `grub.cfg` boots the ISO when it is the boot medium (CD, USB stick, QEMU `-cdrom`).
/// `loopback.cfg` is read when an outer GRUB loop-mounts the ISO from a file on a disk (the
/// way Iconograph boots installed images); it adds the argument that tells the initramfs
/// which file to find the root in (`findiso=` for live-boot, `iso-scan/filename=` for casper).
/// Both talk to the VGA console and the first serial port, so headless machines and QEMU
/// `-nographic` can see and drive the menu.
public struct InnerGrubConfig: Hashable, Sendable {
    public var flavor: Flavor
    /// The menu entry title, e.g. `Iconograph server 1700000000`.
    public var title: String
    /// Extra kernel arguments (`--kernel-arg`), in order, after the flavor's own.
    public var kernelArguments: [String]
    /// Seconds the menu waits.
    public var timeout: Int

    public init(flavor: Flavor, title: String, kernelArguments: [String] = [], timeout: Int = 1) {
        self.flavor = flavor
        self.title = title
        self.kernelArguments = kernelArguments
        self.timeout = timeout
    }

    /// The text of `/boot/grub/grub.cfg`.
    public var grubCfg: String {
        Self.serialHeader(timeout: timeout) + entry(extraArguments: [])
    }

    /// The text of `/boot/grub/loopback.cfg`.
    public var loopbackCfg: String {
        // No terminal setup: the outer GRUB that sources this file already chose its terminals.
        // `configfile` starts a fresh context in which `timeout` is unset (GRUB clears it when
        // the outer countdown ends), so without these lines the inner menu waits for a key.
        "set timeout=1\nset default=0\n\n" + entry(extraArguments: [flavor.isoScanArgument])
    }

    private static func serialHeader(timeout: Int) -> String {
        """
        serial --unit=0 --speed=115200 --word=8 --parity=no --stop=1
        terminal_input console serial
        terminal_output console serial
        set timeout=\(timeout)
        set default=0

        """
    }

    private func entry(extraArguments: [String]) -> String {
        // The iso-scan argument must keep ${iso_path} expandable, so it is written in double
        // quotes (it holds no characters special inside them); user arguments are quoted as words.
        let extra = extraArguments.map { "\"\($0)\"" }
        let words = flavor.bootArguments.map(GrubQuote.word) + extra + kernelArguments.map(GrubQuote.word)
        return """
            menuentry \(GrubQuote.word(title)) {
            \tlinux \(flavor.kernelPath) \(words.joined(separator: " "))
            \tinitrd \(flavor.initrdPath)
            }

            """
    }
}
