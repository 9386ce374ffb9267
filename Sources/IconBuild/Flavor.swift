import IconCore

/// A distribution family and how its live system boots: Debian with live-boot, Ubuntu with
/// casper. Everything that differs between the two is answered here.
public enum Flavor: String, Hashable, Sendable, CaseIterable, Codable {
    case debian
    case ubuntu

    private static let debianReleases: Set<String> = [
        "buster", "bullseye", "bookworm", "trixie", "forky", "duke", "sid", "unstable", "testing",
    ]
    private static let ubuntuReleases: Set<String> = [
        "trusty", "xenial", "bionic", "focal", "jammy", "kinetic", "lunar", "mantic", "noble",
        "oracular", "plucky", "questing", "resolute",
    ]

    /// The flavor for `release`, or `explicit` when given.
    ///
    /// - Throws: `IconError.Code.invalidArgument` when the release is unknown and no
    ///   `--flavor` was given.
    public static func choose(release: String, explicit: Flavor? = nil) throws -> Flavor {
        if let explicit { return explicit }
        if debianReleases.contains(release) { return .debian }
        if ubuntuReleases.contains(release) { return .ubuntu }
        throw IconError(
            .invalidArgument,
            "--release \(release) is not a known Debian or Ubuntu release; pass --flavor debian or --flavor ubuntu")
    }

    /// The suites to install from, in order.
    public func suites(release: String) -> [String] {
        switch self {
        case .ubuntu:
            return [release, "\(release)-updates"]
        case .debian:
            // Unstable has neither updates nor security suites.
            if ["sid", "unstable"].contains(release) { return [release] }
            return [release, "\(release)-updates", "\(release)-security"]
        }
    }

    /// Whether `suite` is served from the security archive rather than the main one.
    public func isSecuritySuite(_ suite: String) -> Bool {
        self == .debian && suite.hasSuffix("-security")
    }

    /// The archive sections to enable.
    public var components: [String] {
        switch self {
        case .debian: ["main"]
        case .ubuntu: ["main", "restricted", "universe", "multiverse"]
        }
    }

    /// Packages every image of this flavor gets: a kernel, the live system's initramfs support,
    /// an init and a small useful base.
    public func basePackages(arch: String) -> [String] {
        switch self {
        case .debian:
            let kernel =
                switch arch {
                case "i386": "linux-image-686"
                case "armhf": "linux-image-armmp"
                default: "linux-image-\(arch)"
                }
            // udev makes /dev/disk/by-label, which the mounts of the persistent and systemid modules wait for.
            return [kernel, "live-boot", "systemd-sysv", "udev", "ca-certificates", "iproute2", "procps", "less"]
        case .ubuntu:
            // The original's base set, plus a kernel and casper (the original took both from
            // a stock live ISO).
            return [
                "linux-generic", "casper", "devscripts", "nano", "iputils-ping", "linux-firmware",
                "ubuntu-minimal", "ubuntu-standard", "user-setup",
            ]
        }
    }

    /// The directory on the ISO holding kernel, initrd and squashfs.
    public var liveDirectory: String {
        switch self {
        case .debian: "live"
        case .ubuntu: "casper"
        }
    }

    /// The kernel's path on the ISO.
    public var kernelPath: String { "/\(liveDirectory)/vmlinuz" }

    /// The initrd's path on the ISO.
    public var initrdPath: String {
        switch self {
        case .debian: "/live/initrd.img"
        case .ubuntu: "/casper/initrd"
        }
    }

    /// The root filesystem's path on the ISO.
    public var squashfsPath: String { "/\(liveDirectory)/filesystem.squashfs" }

    /// Kernel arguments that make the initramfs boot the live system.
    public var bootArguments: [String] {
        switch self {
        case .debian: ["boot=live"]
        case .ubuntu: ["boot=casper"]
        }
    }

    /// The kernel argument naming the ISO file to boot from when GRUB loop-mounted it from
    /// another disk; `${iso_path}` is set by GRUB's loopback support.
    public var isoScanArgument: String {
        switch self {
        case .debian: "findiso=${iso_path}"
        case .ubuntu: "iso-scan/filename=${iso_path}"
        }
    }
}
