import Foundation
import IconCore
import IconPKI

/// Publishes an image directory: builds `manifest.json.unsigned`, signs it into
/// `manifest.json`, and edits rollouts — the original's build_manifest, wrap_file and
/// publish_manifest in one step.
///
/// The signing identity is loaded before anything in the directory changes, so a bad key
/// or certificate file leaves the directory exactly as it was.
public struct Publisher: Sendable {
    /// The name of the signed manifest inside an image directory.
    public static let signedFileName = "manifest.json"

    /// What a publish did.
    public struct Result: Sendable {
        public var manifest: Manifest
        /// Per image timestamp: hashed now or kept from the previous manifest.
        public var sources: [Int: ManifestBuilder.ImageSource]
        /// ISOs deleted because of `maxImages`.
        public var deleted: [String]
    }

    public let imageDirectory: String
    public let signer: ManifestSigner

    public init(imageDirectory: String, signer: ManifestSigner) {
        self.imageDirectory = imageDirectory
        self.signer = signer
    }

    /// Loads the signer files and then publishes; see ``publish(defaultRollout:maxImages:now:)``.
    ///
    /// - Throws: the signer's errors (naming the file) before anything changes, then the
    ///   builder's and `AtomicFile`'s.
    public static func publish(
        imageDir: String, certPath: String, keyPath: String, otherCertPaths: [String] = [],
        defaultRollout: Int = 0, maxImages: Int = 0, now: Date
    ) throws -> Result {
        let signer = try ManifestSigner(certPath: certPath, keyPath: keyPath, otherCertPaths: otherCertPaths)
        return try Publisher(imageDirectory: imageDir, signer: signer)
            .publish(defaultRollout: defaultRollout, maxImages: maxImages, now: now)
    }

    /// Scans the directory, writes `manifest.json.unsigned` then `manifest.json`, each
    /// atomically with mode 0644, then deletes the ISOs beyond `maxImages`.
    ///
    /// - Throws: `IconError.Code.invalidArgument` for a bad rollout or image count,
    ///   `.io` / `.malformed` / `.notFound` naming the file.
    public func publish(defaultRollout: Int = 0, maxImages: Int = 0, now: Date) throws -> Result {
        let builder = ManifestBuilder(
            imageDirectory: imageDirectory, configuration: .init(defaultRollout: defaultRollout, maxImages: maxImages))
        let built = try builder.build(now: now)
        try write(built.manifest)
        try ManifestBuilder.deleteExcess(built.excess)
        return Result(manifest: built.manifest, sources: built.sources, deleted: built.excess)
    }

    /// Sets one image's rollout in `manifest.json.unsigned` and re-signs `manifest.json`.
    /// The manifest timestamp moves forward so devices take the new manifest.
    ///
    /// - Throws: `IconError.Code.invalidArgument` when `rollout` is outside 0...10000,
    ///   `.notFound` naming the timestamp (or the missing unsigned manifest).
    public func setRollout(timestamp: Int, rollout: Int, now: Date) throws -> Manifest {
        try ManifestBuilder.checkRollout(rollout, flag: "--rollout")
        let builder = ManifestBuilder(imageDirectory: imageDirectory)
        guard var manifest = try builder.previousManifest() else {
            throw IconError(
                .notFound,
                "\(imageDirectory)/\(ManifestBuilder.unsignedFileName) does not exist; run icon publish first")
        }
        guard let index = manifest.images.firstIndex(where: { $0.timestamp == timestamp }) else {
            throw IconError(.notFound, "image \(timestamp) is not in \(imageDirectory)/\(ManifestBuilder.unsignedFileName)")
        }
        manifest.images[index].rollout = rollout
        manifest.timestamp = max(Int(now.timeIntervalSince1970.rounded(.down)), manifest.timestamp + 1)
        try write(manifest)
        return manifest
    }

    /// Signs first (so a signing failure writes nothing), then replaces both files.
    func write(_ manifest: Manifest) throws {
        let signed = try signer.sign(manifest)
        try AtomicFile.write(manifest.encoded(), to: "\(imageDirectory)/\(ManifestBuilder.unsignedFileName)", mode: 0o644)
        try AtomicFile.write(signed, to: "\(imageDirectory)/\(Self.signedFileName)", mode: 0o644)
    }
}

extension Publisher {
    /// Loads the signer files and sets one image's rollout; see ``setRollout(timestamp:rollout:now:)``.
    public static func setRollout(
        imageDir: String, timestamp: Int, rollout: Int, certPath: String, keyPath: String,
        otherCertPaths: [String] = [], now: Date
    ) throws -> Manifest {
        try ManifestBuilder.checkRollout(rollout, flag: "--rollout")
        let signer = try ManifestSigner(certPath: certPath, keyPath: keyPath, otherCertPaths: otherCertPaths)
        return try Publisher(imageDirectory: imageDir, signer: signer).setRollout(timestamp: timestamp, rollout: rollout, now: now)
    }
}
