/// What a machine reports every few seconds (`data` of a `report` message).
///
/// The known fields are typed; every other field (e.g. the rest of `/etc/iconograph.json`) is kept
/// in `extra` and written back unchanged, so operators see everything the machine sent.
public struct ReportData: Codable, Sendable, Hashable {
    public var hostname: String?
    public var uptimeSeconds: Int?
    /// Timestamp of the image the `current` link points at (booted next).
    public var nextTimestamp: Int?
    public var nextVolumeID: String?
    public var status: String?
    public var imageType: String?
    /// Timestamp of the running image.
    public var timestamp: Int?
    /// Volume id of the running image.
    public var volumeID: String?
    /// Any other fields, by their JSON key.
    public var extra: [String: JSONValue]

    static let knownKeys: Set<String> = [
        "hostname", "uptime_seconds", "next_timestamp", "next_volume_id", "status", "image_type", "timestamp", "volume_id",
    ]

    public init(
        hostname: String? = nil, uptimeSeconds: Int? = nil, nextTimestamp: Int? = nil, nextVolumeID: String? = nil,
        status: String? = nil, imageType: String? = nil, timestamp: Int? = nil, volumeID: String? = nil,
        extra: [String: JSONValue] = [:]
    ) {
        self.hostname = hostname
        self.uptimeSeconds = uptimeSeconds
        self.nextTimestamp = nextTimestamp
        self.nextVolumeID = nextVolumeID
        self.status = status
        self.imageType = imageType
        self.timestamp = timestamp
        self.volumeID = volumeID
        self.extra = extra.filter { !Self.knownKeys.contains($0.key) }
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: AnyCodingKey.self)
        func string(_ key: String) throws -> String? { try container.decodeIfPresent(String.self, forKey: AnyCodingKey(key)) }
        func int(_ key: String) throws -> Int? {
            try container.decodeIfPresent(JSONValue.self, forKey: AnyCodingKey(key)).flatMap { value in
                guard let int = value.intValue else {
                    throw DecodingError.dataCorruptedError(
                        forKey: AnyCodingKey(key), in: container, debugDescription: "\(key) is not an integer")
                }
                return int
            }
        }
        var extra: [String: JSONValue] = [:]
        for key in container.allKeys where !Self.knownKeys.contains(key.stringValue) {
            extra[key.stringValue] = try container.decode(JSONValue.self, forKey: key)
        }
        self.init(
            hostname: try string("hostname"), uptimeSeconds: try int("uptime_seconds"),
            nextTimestamp: try int("next_timestamp"), nextVolumeID: try string("next_volume_id"),
            status: try string("status"), imageType: try string("image_type"), timestamp: try int("timestamp"),
            volumeID: try string("volume_id"), extra: extra)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: AnyCodingKey.self)
        for (key, value) in extra { try container.encode(value, forKey: AnyCodingKey(key)) }
        try container.encodeIfPresent(hostname, forKey: AnyCodingKey("hostname"))
        try container.encodeIfPresent(uptimeSeconds, forKey: AnyCodingKey("uptime_seconds"))
        try container.encodeIfPresent(nextTimestamp, forKey: AnyCodingKey("next_timestamp"))
        try container.encodeIfPresent(nextVolumeID, forKey: AnyCodingKey("next_volume_id"))
        try container.encodeIfPresent(status, forKey: AnyCodingKey("status"))
        try container.encodeIfPresent(imageType, forKey: AnyCodingKey("image_type"))
        try container.encodeIfPresent(timestamp, forKey: AnyCodingKey("timestamp"))
        try container.encodeIfPresent(volumeID, forKey: AnyCodingKey("volume_id"))
    }
}
