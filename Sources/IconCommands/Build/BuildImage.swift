public import ArgumentParser
import Foundation
import IconBuild
import IconCore
import Logging

/// `icon build-image`: builds a bootable live ISO.
public struct BuildImage: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "build-image",
        abstract: "Build a bootable, timestamped live ISO from a release, packages and modules.",
        discussion: """
            Bootstraps a minimal root with mmdebstrap into a tmpfs work area, runs the modules \
            (each as `<command> --chroot-path=<chroot>`), packs the root with mksquashfs and \
            writes a hybrid ISO that boots with BIOS and UEFI to \
            <image-path>/<image-type>/<timestamp>.iso. Debian releases boot with live-boot, \
            Ubuntu releases with casper. The Debian mirror defaults to the one in the host's \
            apt sources. Needs root (for mounts and chroot). Each stage prints its name and \
            duration.

            With SOURCE_DATE_EPOCH set, the timestamp defaults to it and every date in the \
            squashfs and the ISO is pinned, so the same inputs and cache give a byte-identical \
            ISO. --source-iso takes the kernel and initrd from a stock live ISO (read with \
            xorriso, not mounted) instead of from the built root.

            Example:
              sudo icon build-image --image-path /srv/icon/images \\
                --image-type robot --release bookworm --package openssh-server \\
                --module "/usr/local/lib/icon/mymodule --flag=x" \\
                --kernel-arg console=ttyS0
              sudo SOURCE_DATE_EPOCH=1700000000 icon build-image \\
                --image-path /srv/icon/images --image-type robot \\
                --release bookworm --source-iso /srv/iso/debian-live.iso
            """
    )

    @Option(help: ArgumentHelp(
        "Directory of image types (as icon server's); the ISO goes to <image-path>/<image-type>/<timestamp>.iso.",
        valueName: "dir"))
    var imagePath: String

    @Option(help: ArgumentHelp("Image type: a name such as 'server', also written to /etc/iconograph.json.", valueName: "type"))
    var imageType: String

    @Option(help: ArgumentHelp("Distribution release, e.g. bookworm or noble.", valueName: "release"))
    var release: String

    @Option(help: ArgumentHelp("Debian architecture of the image.", valueName: "arch"))
    var arch: String = "amd64"

    @Option(help: ArgumentHelp("Archive URI (default: the host's configured Debian mirror; required for Ubuntu).", valueName: "url"))
    var archive: String?

    @Option(help: ArgumentHelp("Security archive URI for Debian (default: the host's, else --archive).", valueName: "url"))
    var securityArchive: String?

    @Option(help: ArgumentHelp("debian (live-boot) or ubuntu (casper); default: chosen from --release.", valueName: "flavor"))
    var flavor: String?

    @Option(name: .customLong("package"), help: ArgumentHelp("A package to install besides the base set (repeatable).", valueName: "package"))
    var packages: [String] = []

    @Option(name: .customLong("module"), help: ArgumentHelp("A module command run as '<command> --chroot-path=<chroot>' (repeatable, in order).", valueName: "command"))
    var modules: [String] = []

    @Option(name: .customLong("kernel-arg"), help: ArgumentHelp("A kernel argument for the image's boot entries (repeatable).", valueName: "arg"))
    var kernelArgs: [String] = []

    @Option(help: ArgumentHelp("ISO volume id, at most 32 characters (default: ICON_<TYPE>_<timestamp>).", valueName: "id"))
    var volumeId: String?

    @Option(help: ArgumentHelp("Image timestamp in seconds since the epoch (default: SOURCE_DATE_EPOCH, else now).", valueName: "n"))
    var timestamp: Int?

    @Option(help: ArgumentHelp("squashfs compressor: zstd (chosen by measurement), xz, gzip, lz4, lzo or lzma.", valueName: "name"))
    var compression: String = Mksquashfs.defaultCompression

    @Option(help: ArgumentHelp("Compression level: zstd 1-22 (default 9, by measurement), gzip and lzo 1-9.", valueName: "n"))
    var compressionLevel: Int?

    @Option(help: ArgumentHelp("Directory in which the temporary tmpfs work area is created.", valueName: "dir"))
    var workDir: String = "/tmp"

    @Option(help: ArgumentHelp("Size of the tmpfs work area, as mount's size= option takes it.", valueName: "size"))
    var workSize: String = "75%"

    @Option(help: ArgumentHelp("Stage cache directory for bootstrapped roots.", valueName: "dir"))
    var cacheDir: String = "/var/cache/iconograph"

    @Option(help: ArgumentHelp("A stock live ISO (casper or live-boot) whose kernel and initrd replace the root's own.", valueName: "file"))
    var sourceIso: String?

    @Flag(help: "Bootstrap afresh, neither reading nor filling the stage cache.")
    var noCache = false

    @Flag(help: "Open a shell in the work area before the modules run.")
    var preModuleShell = false

    @Flag(help: "Open a shell in the work area after the modules ran.")
    var postModuleShell = false

    @Flag(help: "Show the build tools' output as it arrives.")
    var verbose = false

    public init() {}

    public func run() async throws {
        try Self.requireRoot(effectiveUserID: geteuid())
        let options = try makeOptions(environment: ProcessInfo.processInfo.environment, now: Date())
        var logger = Logger(label: "icon.build")
        logger.logLevel = verbose ? .debug : .info
        let builder = ImageBuilder(
            options: options, runner: SubprocessToolRunner(streamLevel: verbose ? .info : nil), logger: logger,
            hostSources: try AptSources.load(), report: { Self.say($0) })
        let result: ImageBuildResult
        do {
            result = try await CancelOnInterrupt.run { try await builder.build() }
        } catch is CancellationError {
            throw IconError(.interrupted, "build-image was interrupted; its mounts and work area were removed")
        }
        Self.say("")
        Self.say("built \(result.isoPath)")
        Self.say("  size: \(ByteCountFormatter.string(fromByteCount: result.size, countStyle: .binary))")
        Self.say("  volume id: \(result.volumeID)")
        Self.say("  root: \(result.usedCache ? "from the stage cache" : "bootstrapped")")
        for stage in result.stages {
            Self.say("  \(stage.name): \(StageClock.format(stage.seconds))")
        }
        Self.say("  total: \(StageClock.format(result.stages.reduce(0) { $0 + $1.seconds }))")
    }

    /// Refuses to build unless running as root.
    ///
    /// - Throws: `IconError.Code.permission` saying why root is needed.
    static func requireRoot(effectiveUserID: uid_t) throws {
        guard effectiveUserID == 0 else {
            throw IconError(
                .permission, "build-image must run as root (it mounts tmpfs, /proc, /sys and /dev and uses chroot); try sudo")
        }
    }

    /// The build options from the flags; `SOURCE_DATE_EPOCH` pins the timestamp and file times.
    ///
    /// - Throws: `IconError.Code.invalidArgument` naming the flag at fault.
    func makeOptions(environment: [String: String], now: Date) throws -> ImageBuildOptions {
        let chosen: Flavor?
        if let flavor {
            guard let value = Flavor(rawValue: flavor) else {
                throw IconError(.invalidArgument, "--flavor \(flavor) must be debian or ubuntu")
            }
            chosen = value
        } else {
            chosen = nil
        }
        let epoch = environment["SOURCE_DATE_EPOCH"].flatMap { Int($0) }
        var options = ImageBuildOptions(
            imageDirectory: imagePath, imageType: imageType, release: release, arch: arch, archive: archive,
            securityArchive: securityArchive, flavor: try Flavor.choose(release: release, explicit: chosen),
            packages: packages, modules: modules, kernelArguments: kernelArgs, volumeID: volumeId,
            timestamp: timestamp ?? epoch ?? Int(now.timeIntervalSince1970), compression: compression,
            workDirectory: workDir, workAreaSize: workSize, cacheDirectory: noCache ? nil : cacheDir,
            sourceDateEpoch: epoch, sourceISO: sourceIso, preModuleShell: preModuleShell,
            postModuleShell: postModuleShell)
        options.compressionLevel = compressionLevel
        try options.validate()
        return options
    }

    /// Writes a line to standard output right away (progress must show during long stages).
    static func say(_ line: String) {
        FileHandle.standardOutput.write(Data((line + "\n").utf8))
    }
}
