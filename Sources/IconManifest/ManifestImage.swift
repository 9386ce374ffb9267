/// One image in a manifest: which ISO, its hash, its label and how far it is rolled out.
///
/// The coding keys are the original's wire names; `rollout_‱` uses U+2031 (per ten
/// thousand), which the original writes escaped as `rollout_\u2031`.
public struct ManifestImage: Codable, Hashable, Sendable {
    /// Build time of the image in seconds since the epoch; also its file name (`<timestamp>.iso`).
    public var timestamp: Int
    /// Lowercase hex SHA-256 of the ISO file.
    public var hash: String
    /// The ISO 9660 volume identifier of the image.
    public var volumeID: String
    /// Share of devices that may take this image, in basis points (0...10000).
    public var rollout: Int
    /// The ISO's length in bytes; nil in manifests of the original and of versions before it
    /// was recorded. Devices stop a download that runs past it.
    public var size: Int?

    /// The largest rollout: every device.
    public static let fullRollout = 10_000

    public init(timestamp: Int, hash: String, volumeID: String, rollout: Int, size: Int? = nil) {
        self.timestamp = timestamp
        self.hash = hash
        self.volumeID = volumeID
        self.rollout = rollout
        self.size = size
    }

    /// The image's file name inside an image directory.
    public var fileName: String { "\(timestamp).iso" }

    enum CodingKeys: String, CodingKey {
        case timestamp
        case hash
        case volumeID = "volume_id"
        case rollout = "rollout_\u{2031}"
        case size
    }
}
