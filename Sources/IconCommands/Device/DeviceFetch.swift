public import ArgumentParser
import Foundation
import IconCore
import IconUpdate

/// `icon fetch`: download the image this machine should run and make it the boot default.
public struct DeviceFetch: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "fetch",
        abstract: "Fetch the newest image rolled out to this machine and make it the boot default.",
        discussion: """
            Downloads <base-url>/manifest.json, checks its signature chain against --ca-cert, \
            refuses a manifest older than the one stored in --image-dir (replay), picks the \
            newest image whose staged rollout admits this host (or --timestamp), streams \
            <base-url>/<timestamp>.iso into --image-dir while hashing it, installs it only when \
            the SHA-256 matches, points the 'current' link at it and deletes the oldest ISOs \
            beyond --max-images (never the current or the running one). With --boot-dir, the \
            boot menu (<boot-dir>/grub/grub.cfg) is rewritten too, and a switch to an image \
            that is not the last good one makes it pending in <boot-dir>/grub/grubenv with \
            --boot-tries boots (see Boot safety in the README). The rollout never picks an \
            image marked bad in <image-dir>/boot-state.json; --timestamp can, and clears the mark.

            --boot-dir must be an Iconograph BOOT partition: a grub.cfg there that Iconograph \
            did not write (a host's own /boot/grub/grub.cfg from grub-mkconfig) is refused \
            before anything is downloaded or written.

            Downloads are bounded: an image stops at the size the manifest gives (a longer body \
            is an error), or at --max-image-bytes when the manifest has no sizes; a download \
            that gets less than 64 KiB in --stall-timeout seconds is cut. Ctrl-C or SIGTERM \
            stops a fetch cleanly: exit status 1, the partial download removed.

            Any failure leaves the stored manifest, the ISOs, 'current' and grub.cfg as they were. \
            Errors name the URL or file and say what to do: e.g. a --base-url without \
            /image/<type>, http:// to an HTTPS port, a server certificate --https-ca-cert does \
            not trust, or a client key that does not match its certificate (checked before \
            connecting).

            Example:
              icon fetch --base-url https://images.example.org:8443/image/demo \\
                --ca-cert /etc/iconograph/root.cert.pem --image-dir /boot/iconograph \\
                --https-ca-cert /etc/iconograph/root.cert.pem \\
                --https-client-cert /etc/iconograph/device.cert.pem \\
                --https-client-key /etc/iconograph/device.key.pem --boot-dir /boot
            """
    )

    @Option(help: ArgumentHelp(
        "The image type's URL (https or http), holding manifest.json and <timestamp>.iso.", valueName: "url"))
    var baseURL: String

    @Option(help: ArgumentHelp("PEM file of the CA(s) manifest signers must chain to.", valueName: "file"))
    var caCert: String

    @Option(help: ArgumentHelp("Directory keeping the ISOs, manifest.json and the 'current' link.", valueName: "dir"))
    var imageDir: String

    @OptionGroup var https: HTTPSClientOptions

    @Option(help: ArgumentHelp("How many ISOs to keep in --image-dir; 0 keeps all.", valueName: "n"))
    var maxImages: Int = 5

    @Option(help: ArgumentHelp("Fetch exactly this image timestamp, ignoring the rollout.", valueName: "timestamp"))
    var timestamp: Int?

    @Option(help: ArgumentHelp("The host name the rollout rule uses (default: this machine's).", valueName: "name"))
    var hostname: String?

    @Option(help: ArgumentHelp(
        "Also rewrite <dir>/grub/grub.cfg (and grubenv) for the images in --image-dir, which must be inside it; <dir> must be an Iconograph BOOT partition.",
        valueName: "dir"))
    var bootDir: String?

    @Option(help: ArgumentHelp("JSON file naming the running image in its 'timestamp' field; that ISO is never deleted.", valueName: "file"))
    var runningImageFile: String = "/etc/iconograph.json"

    @Option(help: ArgumentHelp(
        "With --boot-dir: boot tries a newly switched-to image gets before GRUB falls back to the last good image (1 to 9).",
        valueName: "n"))
    var bootTries: Int = 1

    @Option(help: ArgumentHelp("Seconds to wait for the TCP connection and TLS handshake.", valueName: "seconds"))
    var connectTimeout: Int = 10

    @Option(help: ArgumentHelp(
        "Valid signatures from distinct signers a manifest needs (icon publish with several --cert/--key pairs).",
        valueName: "n"))
    var signatureThreshold: Int = 1

    @OptionGroup var bounds: DownloadBoundsOptions

    @Flag(help: "Do not print download progress.")
    var quiet = false

    public init() {}

    /// Checked in `run()`, not `validate()`, so a bad value is one `icon:` line like every other error.
    func checkFlags() throws {
        guard baseURL.hasPrefix("https://") || baseURL.hasPrefix("http://") else {
            throw IconError(.invalidArgument, "--base-url must start with https:// or http://, got \(baseURL)")
        }
        guard maxImages >= 0 else { throw IconError(.invalidArgument, "--max-images must be 0 or more") }
        guard connectTimeout > 0 else { throw IconError(.invalidArgument, "--connect-timeout must be positive") }
        try SignatureThreshold.check(signatureThreshold)
        try bounds.check()
        try BootSafety.validate(bootTries: bootTries)
    }

    /// The line for a fetch stopped by SIGINT or SIGTERM: nothing moved, nothing partial kept.
    static func interruptedMessage(imageDir: String) -> String {
        "fetch was interrupted: any partial download was removed, and current, manifest.json and the boot menu of "
            + "\(imageDir) are as they were"
    }

    public func run() async throws {
        try checkFlags()
        var configuration = FetcherConfiguration(
            baseURL: baseURL, manifestTrustRoots: caCert, imageDir: imageDir,
            httpsCACert: https.httpsCACert, httpsClientCert: https.httpsClientCert, httpsClientKey: https.httpsClientKey,
            bootDir: bootDir,
            maxImages: maxImages, hostname: hostname ?? FetcherConfiguration.systemHostname(),
            forcedTimestamp: timestamp, runningImageFile: runningImageFile, bootTries: bootTries,
            connectTimeout: .seconds(connectTimeout))
        configuration.signatureThreshold = signatureThreshold
        bounds.apply(to: &configuration)
        var progress: (@Sendable (FetchProgress) -> Void)?
        if !quiet {
            progress = { report in FileHandle.standardError.write(Data((report.line + "\n").utf8)) }
        }
        let fetcher = Fetcher(configuration: configuration, progress: progress)
        let result: FetchResult
        do {
            result = try await CancelOnInterrupt.run { try await fetcher.fetch() }
        } catch is CancellationError {
            throw IconError(.interrupted, Self.interruptedMessage(imageDir: imageDir))
        }
        FileHandle.standardOutput.write(Data((result.summary + "\n").utf8))
    }
}
