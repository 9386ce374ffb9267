import Foundation
import IconCore

/// The contents of `/etc/iconograph.json` in an image, as the original wrote it.
public struct ImageInfo: Codable, Hashable, Sendable {
    public var imageType: String
    public var timestamp: Int
    public var volumeID: String?

    enum CodingKeys: String, CodingKey {
        case imageType = "image_type"
        case timestamp
        case volumeID = "volume_id"
    }

    public init(imageType: String, timestamp: Int, volumeID: String?) {
        self.imageType = imageType
        self.timestamp = timestamp
        self.volumeID = volumeID
    }

    public init(options: ImageBuildOptions) {
        self.init(imageType: options.imageType, timestamp: options.timestamp, volumeID: options.volumeID)
    }

    /// Sorted-key, pretty JSON with a final newline.
    public func json() throws -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
        return Array(try encoder.encode(self)) + [10]
    }
}
