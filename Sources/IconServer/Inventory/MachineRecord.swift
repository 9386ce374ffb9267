public import IconProtocol

/// What the inventory knows about one machine, as `/api/machines` returns it.
public struct MachineRecord: Sendable, Equatable, Codable {
    /// The name the machine reports under (the primary key).
    public var hostname: String
    /// Unix seconds of the first report ever seen.
    public var firstSeen: Int
    /// Unix seconds of the newest report.
    public var lastReport: Int?
    /// The newest non-empty `status` the machine reported.
    public var lastStatus: String?
    public var imageType: String?
    /// Timestamp and volume id of the image the machine runs.
    public var runningTimestamp: Int?
    public var runningVolumeID: String?
    /// Timestamp and volume id of the image it boots next (`current`).
    public var nextTimestamp: Int?
    public var nextVolumeID: String?
    /// Certificate subject of the connection that sent the newest report.
    public var client: String?
    /// Whether a connection is reporting under this hostname now.
    public var connected: Bool
    /// The newest report's `data` object, every field as sent.
    public var report: ReportData?

    public init(
        hostname: String, firstSeen: Int, lastReport: Int? = nil, lastStatus: String? = nil, imageType: String? = nil,
        runningTimestamp: Int? = nil, runningVolumeID: String? = nil, nextTimestamp: Int? = nil,
        nextVolumeID: String? = nil, client: String? = nil, connected: Bool, report: ReportData? = nil
    ) {
        self.hostname = hostname
        self.firstSeen = firstSeen
        self.lastReport = lastReport
        self.lastStatus = lastStatus
        self.imageType = imageType
        self.runningTimestamp = runningTimestamp
        self.runningVolumeID = runningVolumeID
        self.nextTimestamp = nextTimestamp
        self.nextVolumeID = nextVolumeID
        self.client = client
        self.connected = connected
        self.report = report
    }

    enum CodingKeys: String, CodingKey {
        case hostname, client, connected, report
        case firstSeen = "first_seen"
        case lastReport = "last_report"
        case lastStatus = "last_status"
        case imageType = "image_type"
        case runningTimestamp = "running_timestamp"
        case runningVolumeID = "running_volume_id"
        case nextTimestamp = "next_timestamp"
        case nextVolumeID = "next_volume_id"
    }

    // Explicit so that absent values are written as null: API clients see every field.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(hostname, forKey: .hostname)
        try container.encode(firstSeen, forKey: .firstSeen)
        try container.encode(lastReport, forKey: .lastReport)
        try container.encode(lastStatus, forKey: .lastStatus)
        try container.encode(imageType, forKey: .imageType)
        try container.encode(runningTimestamp, forKey: .runningTimestamp)
        try container.encode(runningVolumeID, forKey: .runningVolumeID)
        try container.encode(nextTimestamp, forKey: .nextTimestamp)
        try container.encode(nextVolumeID, forKey: .nextVolumeID)
        try container.encode(client, forKey: .client)
        try container.encode(connected, forKey: .connected)
        try container.encode(report, forKey: .report)
    }
}
