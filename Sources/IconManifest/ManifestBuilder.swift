public import Foundation
import IconCore

#if canImport(Glibc)
import Glibc
#endif

/// Builds the unsigned manifest of an image directory, like the original's build_manifest.
///
/// Entries of the previous manifest are kept as they are (including hand-edited or
/// `icon rollout` rollouts), so only new ISOs are hashed; a kept entry without a `size`
/// gets its file's. ISOs beyond `maxImages` are dropped, oldest first.
public struct ManifestBuilder: Sendable {
    /// How the builder treats new and old images.
    public struct Configuration: Sendable {
        /// Rollout in basis points (0...10000) given to images not in the previous manifest.
        public var defaultRollout: Int
        /// How many images to keep, newest first; older ISOs are deleted. 0 keeps all.
        public var maxImages: Int

        public init(defaultRollout: Int = 0, maxImages: Int = 0) {
            self.defaultRollout = defaultRollout
            self.maxImages = maxImages
        }
    }

    /// What happened to one image during a build.
    public enum ImageSource: String, Sendable {
        /// Hashed and read in this build.
        case hashed
        /// Taken from the previous manifest unchanged.
        case kept
    }

    /// A built manifest and what was done to get it.
    public struct Result: Sendable {
        public var manifest: Manifest
        /// For each image timestamp of `manifest`, whether it was hashed now or kept.
        public var sources: [Int: ImageSource]
        /// Paths of ISOs beyond `maxImages`, oldest last: not in `manifest`, to be deleted
        /// once it is written (``deleteExcess(_:)``).
        public var excess: [String]
        /// `.iso` files left out because they are not `<digits>.iso` images, to warn about.
        public var skipped: [ImageScan.Skipped]
    }

    /// The name of the unsigned manifest inside an image directory.
    public static let unsignedFileName = "manifest.json.unsigned"

    public let imageDirectory: String
    public let configuration: Configuration

    public init(imageDirectory: String, configuration: Configuration = Configuration()) {
        self.imageDirectory = imageDirectory
        self.configuration = configuration
    }

    /// Validates a rollout value given by a user.
    ///
    /// - Throws: `IconError.Code.invalidArgument` naming `flag` when outside 0...10000.
    public static func checkRollout(_ rollout: Int, flag: String) throws {
        guard (0...ManifestImage.fullRollout).contains(rollout) else {
            throw IconError(.invalidArgument, "\(flag) must be between 0 and 10000 basis points, got \(rollout)")
        }
    }

    /// Reads `manifest.json.unsigned` of the image directory; nil when there is none.
    ///
    /// - Throws: `IconError.Code.malformed` when it exists but does not parse, `.io` when it
    ///   cannot be read.
    public func previousManifest() throws -> Manifest? {
        let path = "\(imageDirectory)/\(Self.unsignedFileName)"
        guard let data = try RegularFile.contents(atPath: path) else { return nil }
        do {
            return try Manifest.decode(data, source: path)
        } catch let error as IconError {
            throw IconError(
                error.code, error.message + "; fix it, or move it away to start over (every image then gets --default-rollout)",
                cause: error.cause)
        }
    }

    /// Timestamps of the `<digits>.iso` files in the image directory. Hidden files, temp
    /// files of downloads or atomic writes and anything else are ignored (see ``ImageScan``).
    ///
    /// - Throws: `IconError.Code.notFound` / `.io` naming the directory.
    public func imageTimestamps() throws -> [Int] {
        try ImageScan(directory: imageDirectory).timestamps
    }

    /// The timestamp of a file named `<digits>.iso`, nil for any other name.
    public static func timestamp(ofFileName name: String) -> Int? {
        guard name.hasSuffix(".iso") else { return nil }
        let digits = name.dropLast(4)
        guard !digits.isEmpty, digits.utf8.allSatisfy({ (0x30...0x39).contains($0) }) else { return nil }
        return Int(digits)
    }

    /// Builds the manifest; ISOs beyond `maxImages` are listed in `excess`, not deleted.
    /// A directory without images is refused: a manifest there would list nothing.
    ///
    /// - Parameter now: the current time; the manifest timestamp is
    ///   `max(now, previous timestamp + 1)`, so it increases even within one second.
    /// - Throws: `IconError.Code.notFound` or `.invalidArgument` when the directory holds no
    ///   `<digits>.iso` image (``ImageScan/noImagesError``); `.io` / `.malformed` /
    ///   `.notFound` naming the file.
    public func build(now: Date) throws -> Result {
        try Self.checkRollout(configuration.defaultRollout, flag: "--default-rollout")
        guard configuration.maxImages >= 0 else {
            throw IconError(.invalidArgument, "--max-images must be 0 (unlimited) or more, got \(configuration.maxImages)")
        }
        let scan = try ImageScan(directory: imageDirectory)
        guard !scan.timestamps.isEmpty else { throw scan.noImagesError }
        let previous = try previousManifest()
        var timestamps = scan.timestamps.sorted(by: >)
        // Images beyond maxImages are left out of the manifest but deleted only by the caller
        // after the new manifest is written, so no published manifest names a missing file.
        var excess: [String] = []
        if configuration.maxImages > 0, timestamps.count > configuration.maxImages {
            excess = timestamps[configuration.maxImages...].map { "\(imageDirectory)/\($0).iso" }
            timestamps = Array(timestamps[..<configuration.maxImages])
        }
        let known = Dictionary((previous?.images ?? []).map { ($0.timestamp, $0) }, uniquingKeysWith: { first, _ in first })
        var images: [ManifestImage] = []
        var sources: [Int: ImageSource] = [:]
        for timestamp in timestamps {
            let path = "\(imageDirectory)/\(timestamp).iso"
            if var image = known[timestamp] {
                // Manifests of the original and of earlier versions have no sizes: add them.
                if image.size == nil { image.size = try Self.fileSize(path) }
                images.append(image)
                sources[timestamp] = .kept
                continue
            }
            let hash = try FileHasher.sha256Hex(ofFileAt: path)
            images.append(
                ManifestImage(
                    timestamp: timestamp, hash: hash, volumeID: try ISO9660.volumeID(atPath: path),
                    rollout: configuration.defaultRollout, size: try Self.fileSize(path)))
            sources[timestamp] = .hashed
        }
        let seconds = Int(now.timeIntervalSince1970.rounded(.down))
        let stamp = previous.map { max(seconds, $0.timestamp + 1) } ?? seconds
        return Result(
            manifest: Manifest(timestamp: stamp, images: images), sources: sources, excess: excess, skipped: scan.skipped)
    }

    /// The length of the image file at `path` in bytes.
    ///
    /// - Throws: `IconError.Code.io` naming the file.
    static func fileSize(_ path: String) throws -> Int {
        var info = stat()
        guard stat(path, &info) == 0 else {
            throw IconError(.io, "cannot read the size of \(path): \(errnoText())")
        }
        return Int(info.st_size)
    }

    /// Deletes the ISOs `build` listed as excess.
    ///
    /// - Throws: `IconError.Code.io` naming the ISO that could not be deleted.
    public static func deleteExcess(_ paths: [String]) throws {
        for path in paths where FileManager.default.fileExists(atPath: path) {
            do {
                try FileManager.default.removeItem(atPath: path)
            } catch {
                throw IconError(.io, "cannot delete old image \(path)", cause: error)
            }
        }
    }
}
