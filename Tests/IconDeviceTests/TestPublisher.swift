import Foundation
import IconCore
import IconManifest
import IconTestSupport

/// Writes a signed `manifest.json` for the ISOs of a directory with IconManifest's signer,
/// with a chosen manifest timestamp (the Publisher always moves forward, replay tests need
/// to go back). Without `sizes`, the manifest has no image sizes, as the original writes it.
enum TestPublisher {
    static func publish(
        imageDir: String, manifestTimestamp: Int, rollouts: [Int: Int], signer: TestPKI.Identity, chain: String,
        sizes: [Int: Int]? = nil, expires: Int? = nil, minTimestamp: Int? = nil, crls: [String] = []
    ) throws {
        let names = try FileManager.default.contentsOfDirectory(atPath: imageDir)
        let timestamps = names.compactMap { $0.hasSuffix(".iso") ? Int($0.dropLast(4)) : nil }.sorted(by: >)
        let images = try timestamps.map { timestamp in
            let path = "\(imageDir)/\(timestamp).iso"
            return ManifestImage(
                timestamp: timestamp, hash: try FileHasher.sha256Hex(ofFileAt: path),
                volumeID: try ISO9660.volumeID(atPath: path), rollout: rollouts[timestamp] ?? ManifestImage.fullRollout,
                size: sizes?[timestamp])
        }
        let manifestSigner = try ManifestSigner(certPath: signer.certPath, keyPath: signer.keyPath, otherCertPaths: [chain])
        let signed = try manifestSigner.sign(
            Manifest(timestamp: manifestTimestamp, images: images, expires: expires, minTimestamp: minTimestamp), crls: crls)
        try signed.write(to: URL(fileURLWithPath: "\(imageDir)/manifest.json"))
    }
}
