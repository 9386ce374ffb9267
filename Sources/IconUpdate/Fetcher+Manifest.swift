import Foundation
import IconCore
import IconManifest
import IconPKI

// The only part of the fetcher that reads manifests: verification through IconManifest's
// SignedManifest and the choice through its Rollout rule.

extension Fetcher {
    /// Loads the `--ca-cert` trust roots.
    ///
    /// - Throws: `.notFound`/`.io`/`.badKey` naming the file.
    func loadManifestTrust() throws -> ChainVerifier {
        do {
            return try ChainVerifier(rootsFile: configuration.manifestTrustRoots)
        } catch var error as IconError {
            error.message = "--ca-cert: \(error.message)"
            throw error
        }
    }

    /// Verifies the downloaded manifest's chain, signature and content.
    ///
    /// - Throws: `.malformed` (not a manifest wrapper, or signed content that is not a
    ///   manifest), `.untrusted` (signer does not chain to `--ca-cert`, or is expired),
    ///   `.expired` (past the manifest's `expires`) or `.badSignature`, naming the URL and
    ///   giving the verdict's reason.
    func verifyManifest(_ bytes: [UInt8], url: String, trust: ChainVerifier) async throws -> Manifest {
        let data = Data(bytes)
        // Input that is not JSON at all (an HTML error page, a truncated file) gets a plain
        // message instead of a decoder dump.
        guard (try? JSONSerialization.jsonObject(with: data)) is [String: Any] else {
            throw IconError(.malformed, "\(url) is not JSON; expected a signed Iconograph manifest")
        }
        let held = directory.revocations()
        var revocations = held
        let verdict = await SignedManifest.verify(
            data, verifier: trust, now: configuration.now(), threshold: configuration.signatureThreshold,
            revocations: &revocations)
        // A newer revocation list is kept even when it is why the manifest is refused: the next
        // manifest may leave it out. (Into a directory a verified manifest made, or one there.)
        if revocations != held, verdict.manifest != nil || FileManager.default.fileExists(atPath: directory.path) {
            try directory.create()
            try directory.storeRevocations(revocations)
        }
        switch verdict {
        case .verified(let manifest, _):
            return manifest
        case .rejected(let reason):
            throw IconError(verdict.rejectionCode ?? .badSignature, "\(url) rejected: \(reason)")
        }
    }

    /// The image to fetch: the forced timestamp, or the rollout rule's choice for this host
    /// among the images not marked bad in `boot-state.json`.
    ///
    /// Images older than `floor` (the highest version floor this machine has seen) are never
    /// chosen, not even when forced.
    ///
    /// - Returns: nil when the rollout admits no image for this host.
    /// - Throws: `.notFound` naming the URL when the forced timestamp is not in the manifest,
    ///   `.belowFloor` when it is older than the floor.
    func chooseImage(from manifest: Manifest, url: String, floor: Int?) throws -> ManifestImage? {
        if let forced = configuration.forcedTimestamp {
            guard let image = manifest.images.first(where: { $0.timestamp == forced }) else {
                throw IconError(.notFound, "image \(forced) is not in \(url) (--timestamp)")
            }
            if let floor, forced < floor {
                throw IconError(
                    .belowFloor,
                    "image \(forced) is older than the version floor \(floor) (the highest min_timestamp this machine "
                        + "has seen, kept in \(directory.floorPath)); it never switches to an older image")
            }
            return image
        }
        // Images GRUB fell back from are never chosen by the rule again; only a forced
        // timestamp (above) can bring one back.
        let bad = (try? BootState.load(imageDir: directory.path).bad) ?? []
        let belowFloor = Set(manifest.images.map(\.timestamp).filter { $0 < (floor ?? Int.min) })
        return Rollout.choose(
            from: manifest.images, hostname: configuration.hostname,
            excluding: configuration.excludedTimestamps.union(bad).union(belowFloor))
    }
}
