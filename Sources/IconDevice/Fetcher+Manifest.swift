import Foundation
import IconCore

// TEMPORARY: until branch `manifest` lands, the manifest is only parsed here, not verified.
// At merge this file switches to IconManifest's SignedManifest.verify and Rollout.choose;
// it is the only file of the fetcher that touches the manifest model.

/// What the manifest signature is checked against.
typealias ManifestTrust = String

/// The manifest facts the fetcher acts on.
struct FetchManifest: Sendable {
    var timestamp: Int
    var images: [ChosenImage]
    var rollouts: [Int: Int]
}

extension Fetcher {
    /// Loads the `--ca-cert` trust roots.
    ///
    /// - Throws: `.notFound`/`.io`/`.badKey` naming the file.
    func loadManifestTrust() throws -> ManifestTrust {
        let path = configuration.manifestTrustRoots
        guard FileManager.default.fileExists(atPath: path) else {
            throw IconError(.notFound, "--ca-cert \(path) does not exist")
        }
        return path
    }

    /// Verifies the downloaded manifest.
    ///
    /// - Throws: `.badSignature`, `.untrusted` or `.malformed` naming the URL, with the reason.
    func verifyManifest(_ bytes: [UInt8], url: String, trust: ManifestTrust) async throws -> FetchManifest {
        guard let wrapper = try? JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any],
            let inner = wrapper["inner"] as? String,
            let object = try? JSONSerialization.jsonObject(with: Data(inner.utf8)) as? [String: Any],
            let timestamp = object["timestamp"] as? Int,
            let images = object["images"] as? [[String: Any]]
        else {
            throw IconError(.malformed, "\(url) is not a signed Iconograph manifest")
        }
        var manifest = FetchManifest(timestamp: timestamp, images: [], rollouts: [:])
        for image in images {
            guard let ts = image["timestamp"] as? Int, let hash = image["hash"] as? String else {
                throw IconError(.malformed, "\(url) has an image without timestamp or hash")
            }
            manifest.images.append(ChosenImage(timestamp: ts, sha256: hash, volumeID: image["volume_id"] as? String ?? ""))
            manifest.rollouts[ts] = image["rollout_\u{2031}"] as? Int ?? 0
        }
        return manifest
    }

    /// The image to fetch: the forced timestamp, or the rollout rule's choice for this host.
    ///
    /// - Returns: nil when the rollout admits no image for this host.
    /// - Throws: `.notFound` naming the URL when the forced timestamp is not in the manifest.
    func chooseImage(from manifest: FetchManifest, url: String) throws -> ChosenImage? {
        if let forced = configuration.forcedTimestamp {
            guard let image = manifest.images.first(where: { $0.timestamp == forced }) else {
                throw IconError(.notFound, "image \(forced) is not in \(url) (--timestamp)")
            }
            return image
        }
        return manifest.images
            .filter { !configuration.excludedTimestamps.contains($0.timestamp) && (manifest.rollouts[$0.timestamp] ?? 0) > 0 }
            .max { $0.timestamp < $1.timestamp }
    }

    /// The timestamp of the stored `manifest.json`, nil if there is none (or it is unreadable:
    /// it was verified when stored, and a damaged copy must not block updates forever).
    func storedManifestTimestamp() -> Int? {
        guard let data = FileManager.default.contents(atPath: directory.manifestPath),
            let wrapper = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
            let inner = wrapper["inner"] as? String,
            let object = try? JSONSerialization.jsonObject(with: Data(inner.utf8)) as? [String: Any]
        else { return nil }
        return object["timestamp"] as? Int
    }
}
