import Crypto
import Foundation

/// The original's staged-rollout rule.
///
/// Each device derives a stable number in 0..<10000 per image from its hostname and the
/// image timestamp; it may take the image when that number is below the image's rollout.
/// Raising an image's rollout therefore only ever adds devices, and different images reach
/// different subsets of the fleet first.
public enum Rollout {
    /// The device's basis-point value for an image:
    /// `sha256(hostname bytes || uint32_be(timestamp))`, last 4 bytes as a big-endian
    /// UInt32, modulo 10000.
    ///
    /// The original packs the timestamp with Python's `struct.pack('>I')`, which fails for
    /// values outside UInt32, so such an image can never be chosen by an original client.
    /// We keep that: for them this returns 10000, which no rollout (at most 10000) admits.
    /// The hostname is taken as UTF-8, which equals the original's ASCII for every valid
    /// hostname.
    public static func basisPoints(hostname: String, timestamp: Int) -> Int {
        guard let stamp = UInt32(exactly: timestamp) else { return ManifestImage.fullRollout }
        var bytes = Array(hostname.utf8)
        bytes += [UInt8(stamp >> 24), UInt8(truncatingIfNeeded: stamp >> 16), UInt8(truncatingIfNeeded: stamp >> 8), UInt8(truncatingIfNeeded: stamp)]
        let digest = Array(SHA256.hash(data: bytes))
        let tail = digest[(digest.count - 4)...].reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
        return Int(tail % 10_000)
    }

    /// Whether the image's rollout admits the device `hostname`.
    public static func admits(_ image: ManifestImage, hostname: String) -> Bool {
        basisPoints(hostname: hostname, timestamp: image.timestamp) < image.rollout
    }

    /// The newest image whose rollout admits `hostname`, skipping timestamps in `excluding`
    /// (for example images that already failed to boot); nil when none qualifies.
    public static func choose(
        from images: [ManifestImage], hostname: String, excluding: Set<Int> = []
    ) -> ManifestImage? {
        images
            .filter { !excluding.contains($0.timestamp) && admits($0, hostname: hostname) }
            .max { $0.timestamp < $1.timestamp }
    }
}
