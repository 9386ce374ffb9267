import Foundation
public import IconCore
public import Logging

/// What a finished build produced.
public struct ImageBuildResult: Hashable, Sendable {
    public var isoPath: String
    public var size: Int64
    public var volumeID: String
    public var stages: [StageClock.Stage]
    /// Whether the bootstrapped root came from the stage cache.
    public var usedCache: Bool
}

/// Builds a bootable live ISO from a release, packages and modules.
///
/// Stages: work area (tmpfs) → bootstrap (mmdebstrap, or the stage cache) → kernel
/// filesystems, policy-rc.d and stub diversions (`BuildDiversions`) → `/etc/iconograph.json`
/// → modules → clean up (diversions removed) → kernel and initrd → squashfs →
/// grub.cfg/loopback.cfg → hybrid ISO (`HybridIso`). Mounts and the work area are always
/// removed, on success, failure and cancellation.
public struct ImageBuilder: Sendable {
    public var options: ImageBuildOptions
    public var runner: any ToolRunner
    public var logger: Logger
    public var hostSources: AptSources
    /// Receives one line per stage start and end.
    public var report: @Sendable (String) -> Void
    /// Runs an interactive shell in a directory (`--pre-module-shell`); tests replace it.
    public var interactiveShell: @Sendable (String) async throws -> Void

    public init(
        options: ImageBuildOptions, runner: any ToolRunner, logger: Logger, hostSources: AptSources,
        report: @escaping @Sendable (String) -> Void = { _ in },
        interactiveShell: @escaping @Sendable (String) async throws -> Void = ImageBuilder.runInteractiveShell
    ) {
        self.options = options
        self.runner = runner
        self.logger = logger
        self.hostSources = hostSources
        self.report = report
        self.interactiveShell = interactiveShell
    }

    /// The contents of `/usr/sbin/policy-rc.d` during the build: no service may start.
    /// The image's own hostname until something (the `systemid` module, DHCP) sets the
    /// machine's: the image type when it is a valid host name label, else `iconograph`.
    static func defaultHostname(imageType: String) -> String {
        let label = imageType.lowercased()
        let valid = (1...63).contains(label.count) && !label.hasPrefix("-") && !label.hasSuffix("-")
            && label.allSatisfy { ($0.isASCII && $0.isLetter) || $0.isASCII && $0.isNumber || $0 == "-" }
        return valid ? label : "iconograph"
    }

    public static let policyRcD = "#!/bin/sh\n# Written by icon build-image: no services start while the image is built.\nexit 101\n"

    /// Builds the image.
    ///
    /// - Returns: where the ISO is and how long each stage took.
    /// - Throws: `IconError.Code.invalidArgument` for bad options, `.toolFailed` naming the
    ///   failing command, `.io` naming a file, `CancellationError` when cancelled.
    public func build() async throws -> ImageBuildResult {
        try options.validate()
        let sources = try options.sourceLines(host: hostSources)
        // A bad source ISO fails the build before anything is bootstrapped.
        var sourceISO: SourceIso?
        if let path = options.sourceISO {
            let iso = try await SourceIso.open(path: path, runner: runner, logger: logger)
            try iso.check(flavor: options.flavor)
            sourceISO = iso
        }
        let outputDirectory = "\(options.imageDirectory)/\(options.imageType)"
        do {
            try FileManager.default.createDirectory(atPath: outputDirectory, withIntermediateDirectories: true)
        } catch {
            throw IconError(.io, "cannot create the image directory \(outputDirectory) (--image-dir)", cause: error)
        }
        let area = try BuildWorkArea(parent: options.workDirectory, runner: runner, logger: logger)
        var clock = StageClock(report: report)
        do {
            let usedCache = try await runStages(area: area, sources: sources, sourceISO: sourceISO, clock: &clock)
            // Tear down before reporting, so a build that returns left nothing mounted.
            await Task.detached { await area.tearDown() }.value
            let size = (try? FileManager.default.attributesOfItem(atPath: options.isoPath)[.size] as? Int64) ?? 0
            return ImageBuildResult(
                isoPath: options.isoPath, size: size, volumeID: options.volumeID, stages: clock.stages,
                usedCache: usedCache)
        } catch {
            // Detached so a cancelled build still runs its unmounts to the end.
            await Task.detached { await area.tearDown() }.value
            throw error
        }
    }

    private func runStages(
        area: BuildWorkArea, sources: [String], sourceISO: SourceIso?, clock: inout StageClock
    ) async throws -> Bool {
        let chroot = area.chroot
        try await clock.run("work area") { try await area.mountTmpfs(size: options.workAreaSize) }
        let usedCache = try await clock.run("bootstrap") { try await bootstrap(into: chroot, workPath: area.path, sources: sources) }
        let diverted = try await clock.run("prepare chroot") {
            try await area.mountKernelFilesystems()
            try AtomicFile.write(Array(Self.policyRcD.utf8), to: "\(chroot)/usr/sbin/policy-rc.d", mode: 0o755)
            let list = sources.joined(separator: "\n") + "\n"
            try AtomicFile.write(Array(list.utf8), to: "\(chroot)/etc/apt/sources.list")
            try AtomicFile.write(try ImageInfo(options: options).json(), to: "\(chroot)/etc/iconograph.json")
            // The bootstrap copies the build host's name; an image should not carry it.
            try AtomicFile.write(Array("\(Self.defaultHostname(imageType: options.imageType))\n".utf8), to: "\(chroot)/etc/hostname")
            return try await BuildDiversions.add(root: chroot, runner: runner, logger: logger)
        }
        if options.preModuleShell { try await interactiveShell(area.path) }
        for module in options.modules {
            try await clock.run("module \(module)") {
                let command = "\(module) --chroot-path=\(ShellQuote.quote(chroot))"
                try await runner.checked(ToolInvocation("/bin/sh", ["-c", command]), logger: logger)
            }
        }
        if options.postModuleShell { try await interactiveShell(area.path) }
        try await clock.run("clean chroot") {
            try await BuildDiversions.remove(diverted, root: chroot, runner: runner, logger: logger)
            try await runner.checked(Chroot.aptGet(root: chroot, ["clean"]), logger: logger)
            try await runner.checked(
                Chroot.shell(root: chroot, "rm -rf /var/lib/apt/lists/* /var/cache/apt/*.bin /usr/sbin/policy-rc.d"),
                logger: logger)
            try await area.unmountKernelFilesystems()
        }
        let flavor = options.flavor
        try await clock.run("kernel and initrd") {
            try FileManager.default.createDirectory(atPath: "\(area.iso)/\(flavor.liveDirectory)", withIntermediateDirectories: true)
            if let sourceISO {
                report("    kernel \(sourceISO.boot.kernel) and initrd \(sourceISO.boot.initrd) from \(sourceISO.path)")
                for step in sourceISO.extractions(kernel: area.iso + flavor.kernelPath, initrd: area.iso + flavor.initrdPath) {
                    try await runner.checked(step, logger: logger)
                }
            } else {
                let boot = try KernelFinder.find(in: chroot)
                try FileManager.default.copyItem(atPath: boot.kernel, toPath: area.iso + flavor.kernelPath)
                try FileManager.default.copyItem(atPath: boot.initrd, toPath: area.iso + flavor.initrdPath)
            }
        }
        try await clock.run("squashfs") {
            try await runner.checked(
                Mksquashfs.invocation(
                    source: chroot, destination: area.iso + flavor.squashfsPath, compression: options.compression,
                    level: options.compressionLevel, sourceDateEpoch: options.sourceDateEpoch),
                logger: logger)
        }
        try await clock.run("grub config") {
            let config = InnerGrubConfig(
                flavor: flavor, title: "Iconograph \(options.imageType) \(options.timestamp)",
                kernelArguments: options.kernelArguments)
            try FileManager.default.createDirectory(atPath: "\(area.iso)/boot/grub", withIntermediateDirectories: true)
            try AtomicFile.write(Array(config.grubCfg.utf8), to: "\(area.iso)/boot/grub/grub.cfg")
            try AtomicFile.write(Array(config.loopbackCfg.utf8), to: "\(area.iso)/boot/grub/loopback.cfg")
        }
        try await clock.run("iso") {
            let partial = "\(options.isoPath).partial"
            try await HybridIso(
                tree: area.iso, scratch: area.path, output: partial, volumeID: options.volumeID,
                sourceDateEpoch: options.sourceDateEpoch
            ).write(runner: runner, logger: logger)
            try AtomicFile.commit(tempPath: partial, to: options.isoPath)
        }
        return usedCache
    }

    /// Fills `chroot` from the stage cache, or bootstraps it (and fills the cache).
    private func bootstrap(into chroot: String, workPath: String, sources: [String]) async throws -> Bool {
        let packages = options.allPackages
        var environment = ["TMPDIR": workPath]
        if let epoch = options.sourceDateEpoch { environment["SOURCE_DATE_EPOCH"] = String(epoch) }
        guard let directory = options.cacheDirectory else {
            try await runner.checked(
                Mmdebstrap.invocation(
                    release: options.release, arch: options.arch, target: chroot, sources: sources,
                    packages: packages, environment: environment),
                logger: logger)
            return false
        }
        let cache = StageCache(directory: directory)
        let debCache = "\(directory)/debs"
        let key = StageCache.key(
            release: options.release, arch: options.arch, flavor: options.flavor, sources: sources, packages: packages)
        let hit = cache.contains(key: key)
        if !hit {
            try cache.prepare()
            try FileManager.default.createDirectory(atPath: debCache, withIntermediateDirectories: true)
            let partial = cache.partialTarball(forKey: key)
            try await runner.checked(
                Mmdebstrap.invocation(
                    release: options.release, arch: options.arch, target: partial, sources: sources,
                    packages: packages, debCache: debCache, environment: environment),
                logger: logger)
            try AtomicFile.commit(tempPath: partial, to: cache.tarball(forKey: key))
        }
        report("    root \(hit ? "from" : "stored in") cache \(cache.tarball(forKey: key))")
        try await runner.checked(cache.extract(key: key, into: chroot), logger: logger)
        return hit
    }

    /// Runs `bash` in `directory` on the caller's terminal and waits for it to exit.
    @Sendable public static func runInteractiveShell(_ directory: String) async throws {
        _ = try await SubprocessToolRunner.runInteractive(ToolInvocation("/bin/bash", workingDirectory: directory))
    }
}
