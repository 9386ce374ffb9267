public import ArgumentParser
import Foundation
import IconCore
import IconProvision
import IconUpdate

/// `icon image`: makes a bootable Iconograph disk (the original's `imager/image.py`).
public struct DeviceImage: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "image",
        abstract: "Partition a disk, install GRUB and put the chosen image on it.",
        discussion: """
            Erases --device (a block device, or a disk image file that is attached to a loop \
            device and detached afterwards), makes an ext4 BOOT partition (and a PERSISTENT one \
            when --persistent-percent is above 0), installs GRUB for BIOS, UEFI or both, \
            downloads the image the signed manifest offers to --hostname into \
            BOOT:/iconograph/<timestamp>.iso (verifying signature and hash) and writes the \
            outer boot menu BOOT:/grub/grub.cfg, and marks the partition as Iconograph's with \
            BOOT:/iconograph-boot (`icon fetch --boot-dir` and `icon agent` rewrite only such \
            a partition's menu). The TLS files are checked (the key must match the \
            certificate) before the disk is touched.

            Layouts: bios = msdos label, BOOT, PERSISTENT; uefi = GPT, 64 MiB ESP, BOOT, \
            PERSISTENT; both = GPT, 1 MiB bios_grub, 64 MiB ESP, BOOT, PERSISTENT.

            The image is fetched from --base-url, the directory that holds manifest.json and \
            the ISOs. With --image-type, '/image/<type>' is appended to --base-url, so \
            --base-url can name an `icon serve` server. A device that is mounted or holds the \
            running system is refused. Before erasing, the command asks on the terminal \
            unless --yes is given; without a terminal and without --yes it refuses. Each step \
            prints its name and duration. Needs root. The download is bounded as in `icon fetch` \
            (--max-image-bytes, --stall-timeout).

            Example:
              sudo icon image --device /dev/sdx --persistent-percent 50 \\
                --base-url https://images.example.com:8443 --image-type server \\
                --ca-cert /etc/icon/ca.pem --https-ca-cert /etc/icon/https-ca.pem \\
                --https-client-cert /etc/icon/client.pem \\
                --https-client-key /etc/icon/client.key
            """
    )

    @OptionGroup var disk: ImagerOptions

    @Option(help: ArgumentHelp("PEM file of the CA certificates a manifest signature must chain to.", valueName: "file"))
    var caCert: String

    @OptionGroup var https: HTTPSClientOptions

    @Option(help: ArgumentHelp("Host name the rollout rule hashes (default: this machine's).", valueName: "name"))
    var hostname: String?

    @Option(help: ArgumentHelp(
        "Put exactly the image with this timestamp on the disk instead of following the rollout.", valueName: "timestamp"))
    var timestamp: Int?

    @Flag(help: "Erase without asking.")
    var yes = false

    @OptionGroup var bounds: DownloadBoundsOptions

    public init() {}

    /// `--base-url` with `/image/<type>` appended when `--image-type` is given.
    static func imageURL(baseURL: String, imageType: String?) -> String {
        guard let imageType, !imageType.isEmpty else { return baseURL }
        var base = baseURL
        while base.hasSuffix("/") { base.removeLast() }
        return "\(base)/image/\(imageType)"
    }

    func makeConfiguration() throws -> DiskImagerConfiguration {
        let firmware = try disk.firmwareValue()
        guard (https.httpsClientCert == nil) == (https.httpsClientKey == nil) else {
            throw IconError(.invalidArgument, "--https-client-cert and --https-client-key must be given together")
        }
        var fetch = FetcherConfiguration(
            baseURL: Self.imageURL(baseURL: disk.baseUrl, imageType: disk.imageType),
            manifestTrustRoots: caCert, imageDir: "/nonexistent",
            httpsCACert: https.httpsCACert, httpsClientCert: https.httpsClientCert, httpsClientKey: https.httpsClientKey,
            forcedTimestamp: timestamp)
        if let hostname { fetch.hostname = hostname }
        try bounds.check()
        bounds.apply(to: &fetch)
        let configuration = DiskImagerConfiguration(
            device: disk.device, persistentPercent: disk.persistentPercent, firmware: firmware, fetch: fetch,
            confirm: EraseConfirmation.make(yes: yes, device: disk.device))
        try configuration.validate()
        return configuration
    }

    public func run() async throws {
        let imager = DiskImager(configuration: try makeConfiguration(), steps: StepReporter(report: EraseConfirmation.printStep))
        let result = try await imager.run()
        EraseConfirmation.printStep("\(disk.device): \(result.summary)")
    }
}
