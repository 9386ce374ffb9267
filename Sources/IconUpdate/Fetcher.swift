import Foundation
import IconBoot
public import IconCore
import IconManifest
public import IconPKI
import IconTLS

/// Downloads the image a device should run: fetches and verifies the signed manifest,
/// chooses an image by the rollout rule (or a forced timestamp), streams the ISO into the
/// image directory while hashing it, flips `current` and deletes old images.
///
/// Every failure is an ``IconError`` naming the URL or file, and leaves the stored manifest,
/// the ISOs and `current` exactly as they were: new state is only ever renamed into place
/// after everything about it has been checked.
public struct Fetcher: Sendable {
    public let configuration: FetcherConfiguration
    /// Called with download progress at most about once per second.
    public let progress: (@Sendable (FetchProgress) -> Void)?

    public init(configuration: FetcherConfiguration, progress: (@Sendable (FetchProgress) -> Void)? = nil) {
        self.configuration = configuration
        self.progress = progress
    }

    var directory: ImageDirectory { ImageDirectory(path: configuration.imageDir) }

    /// Runs one fetch.
    ///
    /// - Throws: `IconError` with code `.network` (server unreachable or HTTP error), `.tls`,
    ///   `.badSignature`/`.untrusted`/`.malformed` (manifest rejected, with the reason),
    ///   `.expired` (manifest past its `expires`), `.replay` (manifest older than the stored one),
    ///   `.notFound` (forced timestamp absent), `.belowFloor` (forced image below the version floor),
    ///   `.hashMismatch`, `.truncated`, `.badKey`/`.notFound`/`.io` for local files.
    public func fetch() async throws -> FetchResult {
        let trust = try preflight()
        let client = try FetchClient(configuration: configuration)
        do {
            var result = try await run(client: client, trust: trust)
            await client.shutdown()
            result.expiresSoon = expiresSoon(directory.storedManifestExpires)
            return result
        } catch {
            await client.shutdown()
            throw error
        }
    }

    /// Everything a fetch checks before it connects or writes: the `--ca-cert` trust roots,
    /// the TLS files (present, parsing, key matching certificate) and, with a boot directory,
    /// the boot tries, that the image directory is inside it and that its boot menu is
    /// Iconograph's to rewrite. The agent runs this once at start to fail fast.
    ///
    /// - Returns: the manifest trust roots.
    /// - Throws: `.notFound`/`.io`/`.badKey` naming the file, `.invalidArgument` naming the flag
    ///   or the host's grub.cfg.
    @discardableResult
    public func preflight() throws -> ChainVerifier {
        let trust = try loadManifestTrust()
        try configuration.tlsFiles.validate()
        if let bootDir = configuration.bootDir {
            try BootSafety.validate(bootTries: configuration.bootTries)
            try checkBootDir()
            try BootMenuUpdater.checkOwnership(bootDir: bootDir)
        }
        return trust
    }

    private func run(client: FetchClient, trust: ChainVerifier) async throws -> FetchResult {
        let manifestURL = configuration.url(of: "manifest.json")
        let manifestBytes = try await client.getSmall(
            manifestURL, limit: configuration.maxManifestBytes, stall: configuration.stall)
        let manifest = try await verifyManifest(manifestBytes, url: manifestURL, trust: trust)
        // Only a verified manifest may leave a trace: a fetch that fails before this point (a
        // wrong URL, an untrusted signer) creates nothing, not even the image directory.
        try directory.create()
        let lock = try ImageDirectoryLock(directory: directory)
        defer { lock.release() }
        if let stored = directory.storedManifest()?.timestamp, manifest.timestamp < stored {
            throw IconError(
                .replay,
                "\(manifestURL) has timestamp \(manifest.timestamp), older than the stored \(directory.manifestPath) (\(stored)); refusing a replayed manifest"
            )
        }
        if configuration.onlyNewerManifest, let stored = directory.storedManifest()?.timestamp, manifest.timestamp == stored {
            return FetchResult(image: nil, manifestTimestamp: manifest.timestamp, deletedFiles: [], unchanged: true)
        }
        // Under the lock no other fetch writes here: every partial download is stale, and so
        // is every temp file whose writer is gone (a fetch or agent killed with SIGKILL).
        let deletedParts = directory.removeStalePartFiles() + AtomicFile.removeStaleTemporaries(in: directory.path)
        // The highest floor ever seen: the stored one, raised by this manifest's.
        let floor = [directory.floor(), manifest.minTimestamp].compactMap { $0 }.max()
        guard let chosen = try chooseImage(from: manifest, url: manifestURL, floor: floor) else {
            try storeManifest(manifestBytes, floor: manifest.minTimestamp)
            return FetchResult(image: nil, manifestTimestamp: manifest.timestamp, deletedFiles: deletedParts)
        }
        let image = try await obtain(chosen, client: client)
        // Only now, with the ISO verified and in place, does the device's state move forward.
        try storeManifest(manifestBytes, floor: manifest.minTimestamp)
        try recordBootSafety(switchingTo: image.timestamp)
        try directory.setCurrent(image.timestamp)
        var protected: Set<Int> = [image.timestamp]
        if let running = RunningImage.timestamp(fromFile: configuration.runningImageFile) {
            protected.insert(running)
        }
        let deleted = directory.prune(maxImages: configuration.maxImages, protected: protected)
        var result = FetchResult(image: image, manifestTimestamp: manifest.timestamp, deletedFiles: deletedParts + deleted)
        if let bootDir = configuration.bootDir {
            result.bootMenuPath = try BootMenuUpdater().update(bootDir: bootDir, imageDir: directory.path).configPath
        }
        return result
    }

    /// `expires` when it is less than a day away (``FetchResult/expiryWarningSeconds``).
    private func expiresSoon(_ expires: Int?) -> Int? {
        guard let expires else { return nil }
        let now = Int(configuration.now().timeIntervalSince1970.rounded(.down))
        return expires - now < FetchResult.expiryWarningSeconds ? expires : nil
    }

    /// Before `current` moves to `timestamp`: a forced image loses its bad mark, and (with a
    /// boot directory) a switch to another image makes it pending in grubenv with
    /// `bootTries` tries. grubenv is written first, so a power loss in between leaves an
    /// image that is pending but not yet current, never one that is current but unguarded.
    private func recordBootSafety(switchingTo timestamp: Int) throws {
        if configuration.forcedTimestamp == timestamp {
            var state = try BootState.load(imageDir: directory.path)
            if state.bad.contains(timestamp) {
                state.clearBad(timestamp)
                try state.save(imageDir: directory.path)
            }
        }
        guard let bootDir = configuration.bootDir, directory.currentTimestamp() != timestamp else { return }
        try BootSafety(bootDir: bootDir, imageDir: directory.path).recordSwitch(to: timestamp, bootTries: configuration.bootTries)
    }

    /// Returns the chosen ISO, downloading it unless a copy with the right hash is present. A
    /// FIFO or anything else that is not a regular file in its place is never opened: the
    /// download replaces it.
    private func obtain(_ chosen: ManifestImage, client: FetchClient) async throws -> FetchedImage {
        let path = directory.isoPath(chosen.timestamp)
        var image = FetchedImage(
            timestamp: chosen.timestamp, volumeID: chosen.volumeID, sha256: chosen.hash.lowercased(),
            path: path, downloaded: false, bytes: 0, seconds: 0)
        if directory.holdsImage(chosen), (try? FileHasher.sha256Hex(ofFileAt: path)) == image.sha256 {
            return image
        }
        let start = ContinuousClock.now
        image.bytes = try await ImageDownload(
            url: configuration.url(of: ImageDirectory.isoName(chosen.timestamp)),
            finalPath: path, expectedSHA256: image.sha256, expectedSize: chosen.size,
            maxBytes: configuration.maxImageBytes, stall: configuration.stall, progress: progress
        ).run(client: client)
        image.seconds = (ContinuousClock.now - start) / .seconds(1)
        image.downloaded = true
        return image
    }

    /// Refuses an image directory outside the boot directory before anything changes,
    /// rather than after the image was installed.
    private func checkBootDir() throws {
        guard let bootDir = configuration.bootDir else { return }
        let boot = URL(fileURLWithPath: bootDir).standardizedFileURL.resolvingSymlinksInPath().path
        let images = URL(fileURLWithPath: directory.path).standardizedFileURL.resolvingSymlinksInPath().path
        guard images.hasPrefix(boot == "/" ? "/" : boot + "/") else {
            throw IconError(.invalidArgument, "--image-dir \(directory.path) is not inside --boot-dir \(bootDir)")
        }
    }

    /// Stores the manifest and raises the stored floor to its `min_timestamp`: the floor first,
    /// so a power loss between the two never leaves a manifest whose floor was not kept.
    private func storeManifest(_ bytes: [UInt8], floor: Int?) throws {
        if let floor { try directory.raiseFloor(to: floor) }
        try AtomicFile.write(bytes, to: directory.manifestPath, mode: 0o644)
    }
}

extension IconError.Code {
    /// A download ended before the length the server announced.
    public static let truncated: IconError.Code = "truncated"
}
