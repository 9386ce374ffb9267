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
    /// Images this machine marked good (boot safety), oldest first.
    public var goodImages: [Int]?
    /// Images this machine marked bad after GRUB fell back from them; never chosen automatically.
    public var badImages: [Int]?
    /// The last automatic fallback from an image that did not prove itself.
    public var lastRollback: RollbackReport?
    /// `icon --version` of the agent that sent the report (`0.2.0 (commit 1a2b3c4d5e6f)`).
    public var iconVersion: String?
    /// When the manifest this machine last accepted expires (Unix seconds); it refuses that
    /// manifest afterwards, so a machine whose manifest nears it needs a re-signed one.
    public var manifestExpires: Int?
    /// The version floor this machine keeps: it never switches to an older image.
    public var minTimestamp: Int?
    /// Any other fields, by their JSON key, and known fields whose value had an unexpected type.
    public var extra: [String: JSONValue]

    static let knownKeys: Set<String> = [
        "hostname", "uptime_seconds", "next_timestamp", "next_volume_id", "status", "image_type", "timestamp", "volume_id",
        "good_images", "bad_images", "last_rollback", "icon_version",
        "manifest_expires", "min_timestamp",
    ]

    public init(
        hostname: String? = nil, uptimeSeconds: Int? = nil, nextTimestamp: Int? = nil, nextVolumeID: String? = nil,
        status: String? = nil, imageType: String? = nil, timestamp: Int? = nil, volumeID: String? = nil,
        goodImages: [Int]? = nil, badImages: [Int]? = nil, lastRollback: RollbackReport? = nil,
        iconVersion: String? = nil, manifestExpires: Int? = nil, minTimestamp: Int? = nil,
        extra: [String: JSONValue] = [:]
    ) {
        self.manifestExpires = manifestExpires
        self.minTimestamp = minTimestamp
        self.goodImages = goodImages
        self.badImages = badImages
        self.lastRollback = lastRollback
        self.iconVersion = iconVersion
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

    /// Decodes leniently, as the original clients are not strict: `uptime_seconds` may be a float
    /// (it is truncated), and a known field of an unexpected type (say `"timestamp": "x"`) is kept
    /// in `extra` under its key instead of failing the whole report.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: AnyCodingKey.self)
        var extra: [String: JSONValue] = [:]
        for key in container.allKeys {
            extra[key.stringValue] = try container.decode(JSONValue.self, forKey: key)
        }
        var mistyped: [String: JSONValue] = [:]
        /// Takes `key` out of `extra`; a value of the wrong type goes to `mistyped`.
        func take<T>(_ key: String, _ convert: (JSONValue) -> T?) -> T? {
            guard let value = extra.removeValue(forKey: key), value != .null else { return nil }
            guard let converted = convert(value) else {
                mistyped[key] = value
                return nil
            }
            return converted
        }
        let string: (JSONValue) -> String? = { $0.stringValue }
        let int: (JSONValue) -> Int? = { $0.intValue }
        let ints: (JSONValue) -> [Int]? = { value in
            guard case .array(let items) = value else { return nil }
            let numbers = items.compactMap(\.intValue)
            return numbers.count == items.count ? numbers : nil
        }
        let rollback: (JSONValue) -> RollbackReport? = { value in
            guard case .object(let fields) = value, let failed = fields["failed"]?.intValue else { return nil }
            return RollbackReport(
                failed: failed, running: fields["running"]?.intValue, reason: fields["reason"]?.stringValue ?? "",
                at: fields["at"]?.intValue ?? 0)
        }
        self.init(
            hostname: take("hostname", string),
            uptimeSeconds: take("uptime_seconds") { value in
                if case .double(let seconds) = value, seconds.isFinite, abs(seconds) < 9e15 { return Int(seconds) }
                return value.intValue
            },
            nextTimestamp: take("next_timestamp", int), nextVolumeID: take("next_volume_id", string),
            status: take("status", string), imageType: take("image_type", string), timestamp: take("timestamp", int),
            volumeID: take("volume_id", string), goodImages: take("good_images", ints), badImages: take("bad_images", ints),
            lastRollback: take("last_rollback", rollback), iconVersion: take("icon_version", string),
            manifestExpires: take("manifest_expires", int), minTimestamp: take("min_timestamp", int), extra: extra)
        // After init, which drops known keys from `extra`: these must survive to be forwarded as sent.
        self.extra.merge(mistyped) { _, new in new }
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
        try container.encodeIfPresent(goodImages, forKey: AnyCodingKey("good_images"))
        try container.encodeIfPresent(badImages, forKey: AnyCodingKey("bad_images"))
        try container.encodeIfPresent(lastRollback, forKey: AnyCodingKey("last_rollback"))
        try container.encodeIfPresent(iconVersion, forKey: AnyCodingKey("icon_version"))
        try container.encodeIfPresent(manifestExpires, forKey: AnyCodingKey("manifest_expires"))
        try container.encodeIfPresent(minTimestamp, forKey: AnyCodingKey("min_timestamp"))
    }
}
