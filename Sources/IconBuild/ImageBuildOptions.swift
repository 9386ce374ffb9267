import IconCore

/// Everything that decides what `ImageBuilder` builds and where.
public struct ImageBuildOptions: Hashable, Sendable {
    /// The image directory; the ISO goes to `<imageDirectory>/<imageType>/<timestamp>.iso`.
    public var imageDirectory: String
    /// The image type (a name such as `server`), also written to `/etc/iconograph.json`.
    public var imageType: String
    /// The distribution release, e.g. `bookworm` or `noble`.
    public var release: String
    public var arch: String
    /// The main archive URI; `nil` takes the host's configured mirror.
    public var archive: String?
    /// The security archive URI (Debian); `nil` takes the host's, else the main archive.
    public var securityArchive: String?
    public var flavor: Flavor
    /// Packages installed besides the flavor's base set.
    public var packages: [String]
    /// Module commands, each run on the host as `<command> --chroot-path=<chroot>`, in order.
    public var modules: [String]
    /// Extra kernel arguments for the inner grub.cfg and loopback.cfg.
    public var kernelArguments: [String]
    /// The ISO volume id (at most 32 characters).
    public var volumeID: String
    /// The image's timestamp (seconds since the epoch); names the ISO file.
    public var timestamp: Int
    /// The squashfs compressor.
    public var compression: String
    /// The compression level; nil for the compressor's default (see `Mksquashfs.effectiveLevel`).
    public var compressionLevel: Int?
    /// Where the temporary work area (a tmpfs) is created.
    public var workDirectory: String
    /// Size of the work tmpfs, as `mount -o size=` takes it.
    public var workAreaSize: String
    /// The stage cache directory; `nil` disables the cache.
    public var cacheDirectory: String?
    /// When set, timestamps in the squashfs and ISO are pinned to it.
    public var sourceDateEpoch: Int?
    /// A stock live ISO whose kernel and initrd are used instead of the root's own
    /// (`--source-iso`); `nil` takes them from the built root.
    public var sourceISO: String?
    /// Open an interactive shell in the work area before / after the modules run.
    public var preModuleShell: Bool
    public var postModuleShell: Bool

    public init(
        imageDirectory: String, imageType: String, release: String, arch: String = "amd64",
        archive: String? = nil, securityArchive: String? = nil, flavor: Flavor,
        packages: [String] = [], modules: [String] = [], kernelArguments: [String] = [],
        volumeID: String? = nil, timestamp: Int, compression: String = Mksquashfs.defaultCompression,
        workDirectory: String = "/tmp", workAreaSize: String = "75%", cacheDirectory: String? = nil,
        sourceDateEpoch: Int? = nil, sourceISO: String? = nil, preModuleShell: Bool = false,
        postModuleShell: Bool = false
    ) {
        self.imageDirectory = imageDirectory
        self.imageType = imageType
        self.release = release
        self.arch = arch
        self.archive = archive
        self.securityArchive = securityArchive
        self.flavor = flavor
        self.packages = packages
        self.modules = modules
        self.kernelArguments = kernelArguments
        self.volumeID = volumeID ?? Self.defaultVolumeID(imageType: imageType, timestamp: timestamp)
        self.timestamp = timestamp
        self.compression = compression
        self.workDirectory = workDirectory
        self.workAreaSize = workAreaSize
        self.cacheDirectory = cacheDirectory
        self.sourceDateEpoch = sourceDateEpoch
        self.sourceISO = sourceISO
        self.preModuleShell = preModuleShell
        self.postModuleShell = postModuleShell
    }

    /// `ICON_<TYPE>_<timestamp>`, upper-cased and cut to the 32 characters ISO 9660 allows.
    public static func defaultVolumeID(imageType: String, timestamp: Int) -> String {
        let type = String(imageType.uppercased().map { $0.isLetter || $0.isNumber ? $0 : "_" })
        let suffix = "_\(timestamp)"
        return "ICON_" + String(type.prefix(32 - 5 - suffix.count)) + suffix
    }

    /// The ISO's final path.
    public var isoPath: String { "\(imageDirectory)/\(imageType)/\(timestamp).iso" }

    /// Checks the values a user typed.
    ///
    /// - Throws: `IconError.Code.invalidArgument` naming the flag at fault.
    public func validate() throws {
        guard !imageType.isEmpty, !imageType.contains("/"), imageType != ".", imageType != ".." else {
            throw IconError(.invalidArgument, "--image-type \(imageType) must be a non-empty name without '/'")
        }
        guard volumeID.utf8.count <= 32, !volumeID.isEmpty else {
            throw IconError(.invalidArgument, "--volume-id \(volumeID) must be 1 to 32 characters")
        }
        guard Mksquashfs.compressors.contains(compression) else {
            throw IconError(.invalidArgument, "--compression \(compression) is not one of \(Mksquashfs.compressors.joined(separator: ", "))")
        }
        if let compressionLevel {
            guard let range = Mksquashfs.levels[compression] else {
                throw IconError(.invalidArgument, "--compression-level: \(compression) takes no level")
            }
            guard range.contains(compressionLevel) else {
                throw IconError(
                    .invalidArgument, "--compression-level \(compressionLevel) is not in \(range.lowerBound)...\(range.upperBound) for \(compression)")
            }
        }
        guard timestamp > 0 else {
            throw IconError(.invalidArgument, "--timestamp \(timestamp) must be positive")
        }
        for name in packages where name.isEmpty || name.contains(where: { $0.isWhitespace || $0 == "," }) {
            throw IconError(.invalidArgument, "--package \(name) is not a package name")
        }
    }

    /// The apt source lines (`deb URI suite components...`) for the image.
    ///
    /// - Throws: `IconError.Code.invalidArgument` when no archive is given and the host has none.
    public func sourceLines(host: AptSources) throws -> [String] {
        guard let main = archive ?? (flavor == .debian ? host.mainArchive : nil) else {
            throw IconError(
                .invalidArgument,
                flavor == .ubuntu
                    ? "--archive is required for an Ubuntu image (the host's apt sources are not an Ubuntu archive)"
                    : "--archive is required: no Debian mirror found in /etc/apt/sources.list or sources.list.d")
        }
        let security = securityArchive ?? (archive == nil ? host.securityArchive : nil) ?? main
        let components = flavor.components.joined(separator: " ")
        return flavor.suites(release: release).map { suite in
            "deb \(flavor.isSecuritySuite(suite) ? security : main) \(suite) \(components)"
        }
    }

    /// All packages to install: the flavor's base set, then `packages`, without duplicates.
    public var allPackages: [String] {
        var seen = Set<String>()
        return (flavor.basePackages(arch: arch) + packages).filter { seen.insert($0).inserted }
    }
}
